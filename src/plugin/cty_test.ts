// Tests for the cty msgpack codec. Byte vectors are written by hand from the msgpack spec
// (https://github.com/msgpack/msgpack/blob/master/spec.md) and cty's cty/msgpack package, not made by
// the encoder under test.

import { encode as encodeMsgpack, ExtData } from "@msgpack/msgpack";
import fc from "fast-check";
import {
  CtyDecodeError,
  type CtyType,
  ctyTypeJson,
  type CtyValue,
  decodeCty,
  encodeCty,
  parseCtyTypeJson,
  UNKNOWN,
} from "./cty.ts";

// ---------------------------------------------------------------------------------------------------
// Helpers (no jsr:@std here: JSR is out of reach)

/** Bytes from numbers (one byte each) and strings (their UTF-8). */
function b(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else out.push(...new TextEncoder().encode(p));
  }
  return new Uint8Array(out);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** Deep equality for decoded values: bigint and number kept apart, -0 distinct from 0. */
function ctyEqual(a: unknown, c: unknown): boolean {
  if (typeof a !== typeof c) return false;
  if (typeof a === "number") return Object.is(a, c);
  if (a === null || c === null || typeof a !== "object" || typeof c !== "object") return a === c;
  if (Array.isArray(a) !== Array.isArray(c)) return false;
  if (Array.isArray(a) && Array.isArray(c)) {
    return a.length === c.length && a.every((x, i) => ctyEqual(x, c[i]));
  }
  const ak = Object.keys(a).sort();
  const ck = Object.keys(c).sort();
  return ak.length === ck.length &&
    ak.every((k, i) =>
      k === ck[i] && ctyEqual((a as Record<string, unknown>)[k], (c as Record<string, unknown>)[k])
    );
}

function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new Error(message);
}

function assertEquals(actual: unknown, expected: unknown): void {
  if (!ctyEqual(actual, expected)) {
    throw new Error(`not equal:\n  actual:   ${Deno.inspect(actual)}\n  expected: ${Deno.inspect(expected)}`);
  }
}

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  if (hex(actual) !== hex(expected)) {
    throw new Error(`bytes differ:\n  actual:   ${hex(actual)}\n  expected: ${hex(expected)}`);
  }
}

function assertDecodeError(
  bytes: Uint8Array,
  type: CtyType,
  message?: string,
  path?: string[],
): CtyDecodeError {
  try {
    const v = decodeCty(bytes, type);
    throw new Error(`expected a CtyDecodeError, got ${Deno.inspect(v)}`);
  } catch (e) {
    if (!(e instanceof CtyDecodeError)) throw e;
    if (message !== undefined && e.message !== message) {
      throw new Error(`message differs:\n  actual:   ${e.message}\n  expected: ${message}`);
    }
    if (path !== undefined) assertEquals(e.path, path);
    return e;
  }
}

function assertTypeError(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    if (e.message !== message) {
      throw new Error(`message differs:\n  actual:   ${e.message}\n  expected: ${message}`);
    }
    return;
  }
  throw new Error("expected a TypeError");
}

const mount: CtyType = { object: { source: "string", target: "string", readonly: "bool" } };
const task: CtyType = { object: { image: "string", mounts: { list: mount }, stats_interval: "string" } };

// ---------------------------------------------------------------------------------------------------
// Decoding hand-made vectors

Deno.test("decode: fixmap object with a nil attribute", () => {
  const type: CtyType = { object: { image: "string", args: { list: "string" } } };
  const bytes = b(0x82, 0xa5, "image", 0xa5, "redis", 0xa4, "args", 0xc0);
  assertEquals(decodeCty(bytes, type), { image: "redis", args: null });
});

Deno.test("decode: nested object in a list", () => {
  const bytes = b(
    0x91,
    0x83,
    0xa8,
    "readonly",
    0xc3,
    0xa6,
    "source",
    0xa4,
    "/srv",
    0xa6,
    "target",
    0xa4,
    "/tmp",
  );
  assertEquals(decodeCty(bytes, { list: mount }), [{ readonly: true, source: "/srv", target: "/tmp" }]);
});

Deno.test("decode: nil is null for every type", () => {
  for (
    const type of ["string", "number", "bool", "dynamic", { list: "string" }, mount, {
      tuple: [],
    }] as CtyType[]
  ) {
    assertEquals(decodeCty(b(0xc0), type), null);
  }
});

Deno.test("decode: integers of every msgpack width", () => {
  const cases: [Uint8Array, number | bigint][] = [
    [b(0x05), 5],
    [b(0x7f), 127],
    [b(0xff), -1],
    [b(0xe0), -32],
    [b(0xcc, 0xff), 255],
    [b(0xcd, 0x01, 0x00), 256],
    [b(0xce, 0xff, 0xff, 0xff, 0xff), 4294967295],
    [b(0xd0, 0x80), -128],
    [b(0xd1, 0x80, 0x00), -32768],
    [b(0xd2, 0x80, 0x00, 0x00, 0x00), -2147483648],
    // int64/uint64 holding safe integers are plain numbers
    [b(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), -1],
    [b(0xcf, 0, 0, 0, 0, 0, 0, 0, 0x2a), 42],
    [b(0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), Number.MAX_SAFE_INTEGER],
    // beyond 2^53 they are bigints, exact
    [b(0xd3, 0x00, 0x20, 0, 0, 0, 0, 0, 0x01), 9007199254740993n],
    [b(0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0x00), 9007199254740992n],
    [b(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), -(2n ** 63n)],
    [b(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 18446744073709551615n],
  ];
  for (const [bytes, want] of cases) assertEquals(decodeCty(bytes, "number"), want);
});

Deno.test("decode: float32 and float64", () => {
  assertEquals(decodeCty(b(0xca, 0x3f, 0xc0, 0x00, 0x00), "number"), 1.5);
  assertEquals(decodeCty(b(0xca, 0xc0, 0x20, 0x00, 0x00), "number"), -2.5);
  assertEquals(decodeCty(b(0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a), "number"), 0.1);
  assertEquals(decodeCty(b(0xcb, 0x43, 0x40, 0, 0, 0, 0, 0, 0), "number"), 2 ** 53); // a float stays a number
  assertEquals(decodeCty(b(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0), "number"), Infinity);
  assertEquals(decodeCty(b(0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0), "number"), -Infinity);
  assertEquals(decodeCty(b(0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0), "number"), 0); // -0 is 0 in cty
  assertDecodeError(b(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0), "number", "got NaN, expected a number");
});

Deno.test("decode: numbers written as decimal strings", () => {
  const cases: [string, number | bigint][] = [
    ["0.1", 0.1],
    ["0.8", 0.8],
    ["1.50", 1.5],
    ["-2.25", -2.25],
    [".5", 0.5],
    ["7.", 7],
    ["1e3", 1000],
    ["100e-2", 1],
    ["-0", 0],
    ["+12", 12],
    ["12345678901234567890", 12345678901234567890n],
    ["-9007199254740993", -9007199254740993n],
    ["1e21", 10n ** 21n],
    ["9".repeat(100), 10n ** 100n - 1n],
    ["Inf", Infinity],
    ["-Inf", -Infinity],
  ];
  for (const [text, want] of cases) {
    const len = new TextEncoder().encode(text).length;
    const bytes = len < 32 ? b(0xa0 | len, text) : b(0xd9, len, text);
    assertEquals(decodeCty(bytes, "number"), want);
  }
  assertEquals(decodeCty(b(0xc4, 0x02, "42"), "number"), 42); // cty reads bin where it reads str
  assertDecodeError(b(0xa3, "abc"), "number", 'got a string ("abc"), expected a number');
  assertDecodeError(b(0xa0), "number", 'got a string (""), expected a number');
  assertDecodeError(b(0xa6, "1e9999"), "number"); // 10000 digits: refused, not allocated
});

Deno.test("decode: strings, bin as string, str8, NFC", () => {
  assertEquals(decodeCty(b(0xa2, "hi"), "string"), "hi");
  assertEquals(decodeCty(b(0xa0), "string"), "");
  assertEquals(decodeCty(b(0xd9, 0x03, "abc"), "string"), "abc");
  assertEquals(decodeCty(b(0xda, 0x00, 0x02, "ok"), "string"), "ok");
  assertEquals(decodeCty(b(0xc4, 0x02, "hi"), "string"), "hi");
  // "A" + U+030A COMBINING RING ABOVE comes back NFC-composed as U+00C5, as cty.StringVal does
  assertEquals(decodeCty(b(0xa3, 0x41, 0xcc, 0x8a), "string"), "\u00c5");
});

Deno.test("decode: strings and map keys must be UTF-8; a BOM is text", () => {
  assertEquals(decodeCty(b(0xa6, 0xef, 0xbb, 0xbf, "abc"), "string"), "\ufeffabc");
  assertEquals(decodeCty(b(0xc4, 0x04, 0xf0, 0x9f, 0x98, 0x80), "string"), "\u{1f600}");
  assertDecodeError(
    b(0x92, 0xa1, 0xc2, 0xa1, "x"),
    { list: "string" },
    '"[0]": got bytes that are not UTF-8 (1 byte), expected UTF-8 text',
    ["0"],
  );
  assertDecodeError(b(0xa3, 0xed, 0xa0, 0x80), "string"); // a surrogate, encoded: not UTF-8
  assertDecodeError(
    b(0x81, 0xa1, "n", 0xa2, 0x31, 0xff),
    { object: { n: "number" } },
    '"n": got bytes that are not UTF-8 (2 bytes), expected UTF-8 text',
  );
  assertDecodeError(
    b(0x92, 0xa1, 0xff, 0x01),
    "dynamic",
    "got bytes that are not UTF-8 (1 byte), expected UTF-8 text",
  );
  // A key whose last character is cut short, followed by different bytes: the same error each time.
  // (@msgpack/msgpack's own key decoding read the next byte into the key and cached the result.)
  for (const next of [0xac, 0x01, 0xbf, 0xac]) {
    assertDecodeError(
      b(0x81, 0xa7, "volume", 0xc2, next),
      { map: "number" },
      "not valid cty msgpack: a map key is not UTF-8 (7 bytes)",
      [],
    );
  }
});

Deno.test("decode: bools, maps, sets, tuples, big headers", () => {
  assertEquals(decodeCty(b(0xc3), "bool"), true);
  assertEquals(decodeCty(b(0xc2), "bool"), false);
  assertEquals(decodeCty(b(0x82, 0xa1, "k", 0xa1, "v", 0xa1, "e", 0xc0), { map: "string" }), {
    k: "v",
    e: null,
  });
  assertEquals(decodeCty(b(0x80), { map: "string" }), {});
  // sets keep order; equal elements merge, the first one stays
  assertEquals(decodeCty(b(0x94, 0x02, 0x01, 0x02, 0xd4, 0x00, 0x00), { set: "number" }), [2, 1, UNKNOWN]);
  assertEquals(decodeCty(b(0x92, 0xa1, "a", 0x01), { tuple: ["string", "number"] }), ["a", 1]);
  assertEquals(decodeCty(b(0x90), { tuple: [] }), []);
  assertEquals(decodeCty(b(0xdc, 0x00, 0x02, 0x01, 0x02), { list: "number" }), [1, 2]);
  assertEquals(decodeCty(b(0xdd, 0x00, 0x00, 0x00, 0x01, 0xc3), { list: "bool" }), [true]);
  assertEquals(decodeCty(b(0xde, 0x00, 0x01, 0xa1, "k", 0xc3), { map: "bool" }), { k: true });
  assertEquals(decodeCty(b(0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, "k", 0xc2), { map: "bool" }), { k: false });
});

Deno.test("decode: ext 0 is UNKNOWN whatever its payload", () => {
  assertEquals(decodeCty(b(0xd4, 0x00, 0x00), "string"), UNKNOWN); // what cty writes
  assertEquals(decodeCty(b(0xd5, 0x00, 0x01, 0x02), "number"), UNKNOWN);
  assertEquals(decodeCty(b(0xc7, 0x00, 0x00), mount), UNKNOWN); // ext 8, empty payload
  assertEquals(decodeCty(b(0xc7, 0x03, 0x00, 0xaa, 0xbb, 0xcc), { list: "string" }), UNKNOWN);
  assertEquals(decodeCty(b(0xd4, 0x00, 0x00), "dynamic"), UNKNOWN);
  const bytes = b(0x83, 0xa6, "target", 0xd4, 0x00, 0x00, 0xa6, "source", 0xc0, 0xa8, "readonly", 0xc2);
  assertEquals(decodeCty(bytes, mount), { target: UNKNOWN, source: null, readonly: false });
});

Deno.test("decode: refined unknown ext 0x0c", () => {
  // cty.UnknownVal(cty.String).Refine().NotNull().StringPrefix("foo-"): {1: false, 2: "foo-"}
  const refined = b(0xc7, 0x09, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa4, "foo-");
  assertEquals(decodeCty(refined, "string"), UNKNOWN);
  assertEquals(decodeCty(b(0xd4, 0x0c, 0x00), "number"), UNKNOWN);
  // number lower bound: {3: [0, true]}, 5 bytes in an ext 8
  assertEquals(decodeCty(b(0xc7, 0x05, 0x0c, 0x81, 0x03, 0x92, 0x00, 0xc3), "number"), UNKNOWN);
  const inObject = b(0x81, 0xa5, "image", ...refined);
  assertEquals(decodeCty(inObject, { object: { image: "string" } }), { image: UNKNOWN });
  assertDecodeError(
    b(0x81, 0xa5, "image", 0xd5, 0x0c, 0x01, 0x02),
    { object: { image: "string" } },
    '"image": got a refined unknown value whose 2 bytes are not a msgpack map of at most 1 KiB',
    ["image"],
  );
});

Deno.test("decode: other extension types", () => {
  // cty: an extension of at most one byte is an unknown value, whatever its type code
  assertEquals(decodeCty(b(0xd4, 0x05, 0x00), "string"), UNKNOWN);
  // the timestamp extension (-1) is not a Date here
  assertDecodeError(
    b(0xd6, 0xff, 0x00, 0x00, 0x00, 0x00),
    "string",
    "got msgpack extension type -1 (4 bytes), expected a value or an unknown (ext 0 or 0x0c)",
  );
  assertDecodeError(b(0xd5, 0x07, 0x01, 0x02), "number");
});

Deno.test("decode: dynamic values", () => {
  // [bin '"string"', "hi"]: what cty writes
  assertEquals(decodeCty(b(0x92, 0xc4, 0x08, '"string"', 0xa2, "hi"), "dynamic"), "hi");
  // the type JSON may also come as str
  assertEquals(decodeCty(b(0x92, 0xa8, '"number"', 0x07), "dynamic"), 7);
  assertEquals(decodeCty(b(0x92, 0xc4, 0x11, '["list","number"]', 0x92, 0x01, 0x02), "dynamic"), [1, 2]);
  const objJson = '["object",{"a":"bool","b":"dynamic"}]';
  const obj = b(0x92, 0xc4, objJson.length, objJson, 0x82, 0xa1, "a", 0xc3, 0xa1, "b", 0xc0);
  assertEquals(decodeCty(obj, "dynamic"), { a: true, b: null });
  // an unknown value inside a dynamic value
  assertEquals(decodeCty(b(0x92, 0xc4, 0x08, '"string"', 0xd4, 0x00, 0x00), "dynamic"), UNKNOWN);
  // a dynamic attribute of an object
  const inObject = b(0x81, 0xa3, "env", 0x92, 0xc4, 0x10, '["map","string"]', 0x81, 0xa1, "A", 0xa1, "1");
  assertEquals(decodeCty(inObject, { object: { env: "dynamic" } }), { env: { A: "1" } });
  assertDecodeError(
    b(0x93, 0xc4, 0x08, '"string"', 0xa2, "hi", 0xc0),
    "dynamic",
    "got an array of 3 elements, expected a [type, value] pair (a dynamic value)",
  );
  assertDecodeError(
    b(0x81, 0xa1, "x", 0x92, 0xa7, '"strng"', 0xa2, "hi"),
    { object: { x: "dynamic" } },
    '"x": the type of a dynamic value is not a cty type: unknown primitive type "strng"; ' +
      'use "string", "number", "bool" or "dynamic"',
    ["x"],
  );
  assertDecodeError(b(0x92, 0xa2, "[1", 0xc0), "dynamic", 'the type of a dynamic value is not JSON: "[1"');
  assertDecodeError(
    b(0x92, 0x01, 0xc0),
    "dynamic",
    "got a number (1) as the type of a dynamic value, expected type JSON",
  );
});

Deno.test("decode: objects with optional attributes", () => {
  const type: CtyType = { object: { a: "string", b: "number" }, optional: ["b"] };
  assertEquals(decodeCty(b(0x81, 0xa1, "a", 0xa1, "x"), type), { a: "x", b: null });
  assertDecodeError(
    b(0x81, 0xa1, "b", 0x01),
    type,
    '"a": attribute missing (cty writes every attribute of an object, null ones as nil)',
    [
      "a",
    ],
  );
});

Deno.test("decode: malformed msgpack is a CtyDecodeError", () => {
  assertDecodeError(b(0xc1), "string", "not valid msgpack: Unrecognized type byte: 0xc1");
  assertDecodeError(b(), "string", "not valid msgpack: the data ends in the middle of a value");
  assertDecodeError(
    b(0x92, 0x01),
    { list: "number" },
    "not valid msgpack: the data ends in the middle of a value",
  );
  assertDecodeError(b(0xa3, "ab"), "string", "not valid msgpack: the data ends in the middle of a value");
  assertDecodeError(b(0x01, 0x02), "number", "not valid msgpack: Extra 1 of 2 byte(s) found at buffer[1]");
  assertDecodeError(
    b(0x81, 0x01, 0x02),
    { map: "number" },
    "not valid cty msgpack: a map key is a number (1); keys must be strings",
  );
  // an array header claiming 2^32-1 elements is refused before anything is allocated
  assertDecodeError(b(0xdd, 0xff, 0xff, 0xff, 0xff), { list: "number" });
  // deep nesting through dynamic values stops at a limit instead of overflowing the stack
  const deep: (number | string)[] = [];
  for (let i = 0; i < 1000; i++) deep.push(0x92, 0xa9, '"dynamic"');
  deep.push(0xc0);
  assertDecodeError(b(...deep), "dynamic", undefined);
});

// ---------------------------------------------------------------------------------------------------
// Error messages

Deno.test("errors: exact messages and paths", () => {
  assertDecodeError(
    b(0x81, 0xae, "stats_interval", 0x05),
    { object: { stats_interval: "string" } },
    '"stats_interval": got a number (5), expected a string',
    ["stats_interval"],
  );
  const badTarget = b(
    0x83,
    0xa5,
    "image",
    0xa5,
    "redis",
    0xae,
    "stats_interval",
    0xc0,
    0xa6,
    "mounts",
    0x91,
    0x83,
    0xa6,
    "source",
    0xa4,
    "/srv",
    0xa6,
    "target",
    0xc3,
    0xa8,
    "readonly",
    0xc2,
  );
  assertDecodeError(badTarget, task, '"mounts[0].target": got a bool (true), expected a string', [
    "mounts",
    "0",
    "target",
  ]);
  const typo = b(0x81, 0xa6, "mounts", 0x91, 0x81, 0xa6, "tagret", 0xa4, "/tmp");
  assertDecodeError(
    typo,
    { object: { mounts: { list: mount } } },
    '"mounts[0].tagret": unsupported attribute; expected one of "readonly", "source", "target"',
    ["mounts", "0", "tagret"],
  );
  assertDecodeError(
    b(0x81, 0xa6, "mounts", 0x91, 0xa9, "/tmp:/tmp"),
    { object: { mounts: { list: mount } } },
    '"mounts[0]": got a string ("/tmp:/tmp"), expected an object with attributes "readonly", "source", "target"',
  );
  assertDecodeError(
    b(0x81, 0xa4, "args", 0xa7, "sleep 1"),
    { object: { args: { list: "string" } } },
    '"args": got a string ("sleep 1"), expected a list of string',
  );
  assertDecodeError(
    b(0x81, 0xa6, "labels", 0x81, 0xa3, "a b", 0x01),
    { object: { labels: { map: "string" } } },
    '"labels["a b"]": got a number (1), expected a string',
    ["labels", "a b"],
  );
  assertDecodeError(
    b(0x93, 0x01, 0x02, 0x03),
    { tuple: ["number", "number"] },
    "got an array of 3 elements, expected a tuple of 2 elements",
  );
  assertDecodeError(
    b(0x82, 0xa1, "a", 0x01, 0xa1, "b", 0x02),
    "string",
    'got a map with 2 keys ("a", "b"), expected a string',
  );
  // cty reads bin as a string, so bin is described as one
  assertDecodeError(b(0xc4, 0x03, 0x61, 0x62, 0x63), "bool", 'got a string ("abc"), expected a bool');
  assertDecodeError(
    b(0xc4, 0x02, 0xff, 0x01),
    "bool",
    "got bytes that are not UTF-8 (2 bytes), expected a bool",
  );
  assertDecodeError(b(0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0), "string", "got a number (1.5), expected a string");
  assertDecodeError(
    b(0xd3, 0x00, 0x20, 0, 0, 0, 0, 0, 0x01),
    "bool",
    "got a number (9007199254740993), expected a bool",
  );
});

Deno.test("errors: never more than 60 characters of a value", () => {
  const long = "x".repeat(200);
  const e = assertDecodeError(
    b(0x81, 0xa3, "cpu", 0xd9, 200, long),
    { object: { cpu: "number" } },
    `"cpu": got a string ("${"x".repeat(55)}..."), expected a number`,
  );
  assert(!e.message.includes("x".repeat(56)));
  const longKey = "k".repeat(300);
  const e2 = assertDecodeError(b(0x81, 0xda, 0x01, 0x2c, longKey, 0x01), { map: "string" });
  assert(!e2.message.includes("k".repeat(61)), e2.message);
  assertEquals(e2.path, [longKey]);
  const manyKeys = b(0x8a, ...Array.from({ length: 10 }, (_, i) => [0xa8, `key_${i}___`, 0x01]).flat());
  const e3 = assertDecodeError(manyKeys, "string");
  assert(e3.message.length < 120, e3.message);
});

// ---------------------------------------------------------------------------------------------------
// Encoding

Deno.test("encode: objects carry every attribute, sorted, nil for absent", () => {
  const type: CtyType = { object: { b: "number", a: "string" } };
  assertBytes(encodeCty({ b: 1 }, type), b(0x82, 0xa1, "a", 0xc0, 0xa1, "b", 0x01));
  assertBytes(encodeCty({ a: null, b: 1 }, type), b(0x82, 0xa1, "a", 0xc0, 0xa1, "b", 0x01));
  assertBytes(encodeCty(null, type), b(0xc0));
  assertBytes(encodeCty({}, { object: {} }), b(0x80));
});

Deno.test("encode: map keys in byte order", () => {
  const bytes = encodeCty({ b: 1, a: 2, "10": 3, "9": 4 }, { map: "number" });
  assertBytes(bytes, b(0x84, 0xa2, "10", 0x03, 0xa1, "9", 0x04, 0xa1, "a", 0x02, 0xa1, "b", 0x01));
  // U+FF5E sorts before U+1F600 in UTF-8, though not in UTF-16
  const astral = encodeCty({ "\u{1F600}": true, "\uFF5E": false }, { map: "bool" });
  assertBytes(astral, b(0x82, 0xa3, "\uFF5E", 0xc2, 0xa4, "\u{1F600}", 0xc3));
});

Deno.test("encode: numbers as cty writes them", () => {
  const cases: [number | bigint, Uint8Array][] = [
    [0, b(0x00)],
    [-0, b(0x00)],
    [127, b(0x7f)],
    [128, b(0xcc, 0x80)],
    [256, b(0xcd, 0x01, 0x00)],
    [65536, b(0xce, 0x00, 0x01, 0x00, 0x00)],
    [2 ** 32, b(0xcf, 0, 0, 0, 0x01, 0, 0, 0, 0)],
    [-1, b(0xff)],
    [-33, b(0xd0, 0xdf)],
    [-129, b(0xd1, 0xff, 0x7f)],
    [-(2 ** 31) - 1, b(0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff)],
    [0.5, b(0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0)],
    [2 ** 53, b(0xcb, 0x43, 0x40, 0, 0, 0, 0, 0, 0)],
    [Infinity, b(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0)],
    [5n, b(0x05)],
    [2n ** 63n - 1n, b(0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    [-(2n ** 63n), b(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0)],
    [2n ** 63n, b(0xb3, "9223372036854775808")],
    [-(10n ** 29n), b(0xbf, "-100000000000000000000000000000")],
    [10n ** 31n, b(0xd9, 0x20, "10000000000000000000000000000000")],
  ];
  for (const [value, want] of cases) assertBytes(encodeCty(value, "number"), want);
  assertTypeError(() => encodeCty(NaN, "number"), "encodeCty: NaN is not a cty number");
});

Deno.test("encode: unknown, dynamic, sets, strings", () => {
  for (const type of ["string", "dynamic", mount, { list: "number" }] as CtyType[]) {
    assertBytes(encodeCty(UNKNOWN, type), b(0xd4, 0x00, 0x00));
  }
  assertBytes(encodeCty("hi", "dynamic"), b(0x92, 0xc4, 0x08, '"string"', 0xa2, "hi"));
  assertBytes(encodeCty(null, "dynamic"), b(0xc0));
  const objJson = '["object",{"a":"number","b":"dynamic"}]';
  assertBytes(
    encodeCty({ b: null, a: 1 }, "dynamic"),
    b(0x92, 0xc4, objJson.length, objJson, 0x82, 0xa1, "a", 0x01, 0xa1, "b", 0xc0),
  );
  assertBytes(encodeCty([1, 2, 1, 3, 2], { set: "number" }), b(0x93, 0x01, 0x02, 0x03));
  assertBytes(encodeCty("A\u030a", "string"), b(0xa2, 0xc3, 0x85));
  const twenty = Array.from({ length: 20 }, (_, i) => i);
  assertBytes(encodeCty(twenty, { list: "number" }), b(0xdc, 0x00, 0x14, ...twenty));
  const many = encodeCty(new Array(70000).fill(true), { list: "bool" });
  assertBytes(many.subarray(0, 6), b(0xdd, 0x00, 0x01, 0x11, 0x70, 0xc3));
});

Deno.test("encode: values that do not fit the type are TypeErrors", () => {
  assertTypeError(() => encodeCty("5", "number"), 'encodeCty: got a string ("5"), expected a number');
  assertTypeError(
    () => encodeCty({ mounts: [{ target: 1 }] }, { object: { mounts: { list: mount } } }),
    'encodeCty: "mounts[0].target": got a number (1), expected a string',
  );
  assertTypeError(
    () => encodeCty({ tagret: "/tmp" }, mount),
    'encodeCty: "tagret": not an attribute of an object with attributes "readonly", "source", "target"',
  );
  assertTypeError(
    () => encodeCty([1], { tuple: ["number", "number"] }),
    "encodeCty: got an array of 1 element, expected a tuple of 2 elements",
  );
});

// ---------------------------------------------------------------------------------------------------
// Type JSON

Deno.test("type JSON: parse and write", () => {
  assertEquals(parseCtyTypeJson("string"), "string");
  assertEquals(parseCtyTypeJson(["list", ["map", "bool"]]), { list: { map: "bool" } });
  assertEquals(parseCtyTypeJson(["set", "dynamic"]), { set: "dynamic" });
  assertEquals(parseCtyTypeJson(["tuple", ["string", "number"]]), { tuple: ["string", "number"] });
  assertEquals(parseCtyTypeJson(["object", { a: "string" }]), { object: { a: "string" } });
  assertEquals(parseCtyTypeJson(["object", { a: "string", b: "bool" }, ["b"]]), {
    object: { a: "string", b: "bool" },
    optional: ["b"],
  });
  const json = '["object",{"\\u003c":"bool","a":["tuple",["string",["set","number"]]]},["\\u003c"]]';
  const type = parseCtyTypeJson(JSON.parse(json));
  assertEquals(type, {
    object: { "<": "bool", a: { tuple: ["string", { set: "number" }] } },
    optional: ["<"],
  });
  assert(ctyTypeJson(type) === json, ctyTypeJson(type));
  const bad: [unknown, string][] = [
    ["strng", 'unknown primitive type "strng"; use "string", "number", "bool" or "dynamic"'],
    [42, '42 is not a type; use a primitive name or ["kind", ...]'],
    [["list"], '["list"] is not a type; use a primitive name or ["kind", ...]'],
    [["list", "string", "x"], '["list","string","x"]: a list type has 1 argument(s)'],
    [["frob", "string"], '["frob","string"]: unknown type kind; use list, set, map, object or tuple'],
    [
      ["object", { a: "string" }, ["b"]],
      '["object",{"a":"string"},["b"]]: optional attributes must be a list of attribute names',
    ],
    [["tuple", "string"], '["tuple","string"]: a tuple type needs an array of types'],
  ];
  for (const [input, message] of bad) {
    try {
      parseCtyTypeJson(input);
      throw new Error(`accepted ${JSON.stringify(input)}`);
    } catch (e) {
      if (!(e instanceof CtyDecodeError)) throw e;
      assert(e.message === message, `message differs:\n  actual:   ${e.message}\n  expected: ${message}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------------
// Properties

const attrName = fc.oneof(
  fc.constantFrom("image", "args", "a", "b", "port", "mounts", "10", "9"),
  fc.string({ unit: "grapheme", maxLength: 6 }),
).filter((k) => k !== "__proto__"); // @msgpack/msgpack refuses this key

const typeArb: fc.Arbitrary<CtyType> = fc.letrec<{ type: CtyType }>((tie) => ({
  type: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    fc.constantFrom<CtyType>("string", "number", "bool", "dynamic"),
    tie("type").map((t): CtyType => ({ list: t })),
    tie("type").map((t): CtyType => ({ set: t })),
    tie("type").map((t): CtyType => ({ map: t })),
    fc.dictionary(attrName, tie("type"), { maxKeys: 4 }).chain((attrs) =>
      fc.subarray(Object.keys(attrs)).map((optional): CtyType =>
        optional.length === 0 ? { object: attrs } : { object: attrs, optional }
      )
    ),
    fc.array(tie("type"), { maxLength: 3 }).map((tuple): CtyType => ({ tuple })),
  ),
})).type;

const stringArb = fc.string({ unit: "grapheme", maxLength: 40 }).map((s) => s.normalize("NFC"));
const numberArb: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.integer({ min: -300, max: 300 }),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true }).map((d) => d === 0 ? 0 : d), // cty has no -0
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 100n }), // bigints only where a number cannot be exact
  fc.bigInt({ min: -(2n ** 100n), max: -(2n ** 53n) }),
);
const leafArb: fc.Arbitrary<CtyValue> = fc.oneof(
  stringArb,
  numberArb,
  fc.boolean(),
  fc.constant<CtyValue>(null),
  fc.constant<CtyValue>(UNKNOWN),
);
const dynamicArb: fc.Arbitrary<CtyValue> = fc.letrec<{ v: CtyValue }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    leafArb,
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(attrName, tie("v"), { maxKeys: 3 }),
  ),
})).v;

/** Canonical text of a known value (undefined when it holds UNKNOWN), to make set elements unique. */
function elementKey(v: CtyValue): string | symbol {
  const key = (x: CtyValue): string | undefined => {
    if (x === UNKNOWN) return undefined;
    if (typeof x === "number" && Number.isInteger(x)) return `#${BigInt(x)}`;
    if (typeof x === "number" || typeof x === "bigint") return `#${x}`;
    if (x === null || typeof x !== "object") return JSON.stringify(x);
    const entries = Array.isArray(x)
      ? x.map((e, i) => [String(i), e] as const)
      : Object.entries(x).sort(([a], [c]) => a < c ? -1 : a > c ? 1 : 0);
    const parts = entries.map(([k, e]) => {
      const ek = key(e);
      return ek === undefined ? undefined : `${JSON.stringify(k)}:${ek}`;
    });
    return parts.includes(undefined) ? undefined : `${Array.isArray(x) ? "[" : "{"}${parts.join(",")}`;
  };
  return key(v) ?? Symbol("unknown"); // elements holding an unknown never merge
}

function valueArb(type: CtyType): fc.Arbitrary<CtyValue> {
  return fc.oneof(
    { weight: 8, arbitrary: knownArb(type) },
    { weight: 1, arbitrary: fc.constant<CtyValue>(null) },
    { weight: 1, arbitrary: fc.constant<CtyValue>(UNKNOWN) },
  );
}

function knownArb(type: CtyType): fc.Arbitrary<CtyValue> {
  switch (type) {
    case "string":
      return stringArb;
    case "number":
      return numberArb;
    case "bool":
      return fc.boolean();
    case "dynamic":
      return dynamicArb;
  }
  if ("list" in type) return fc.array(valueArb(type.list), { maxLength: 4 });
  if ("set" in type) return fc.uniqueArray(valueArb(type.set), { maxLength: 4, selector: elementKey });
  if ("map" in type) return fc.dictionary(attrName, valueArb(type.map), { maxKeys: 4 });
  if ("tuple" in type) return fc.tuple(...type.tuple.map(valueArb));
  const attrs = type.object;
  const record: Record<string, fc.Arbitrary<CtyValue>> = {};
  for (const name of Object.keys(attrs)) record[name] = valueArb(attrs[name]);
  return fc.record(record);
}

interface Typed {
  type: CtyType;
  value: CtyValue;
}
const typedValueArb = typeArb.chain((type) => valueArb(type).map((value): Typed => ({ type, value })));

Deno.test("property: decode(encode(v)) equals v, and re-encoding is byte-stable", () => {
  fc.assert(
    fc.property(typedValueArb, ({ type, value }) => {
      const bytes = encodeCty(value, type);
      const back = decodeCty(bytes, type);
      assertEquals(back, value);
      assertBytes(encodeCty(back, type), bytes);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: type JSON round-trips", () => {
  fc.assert(
    fc.property(typeArb, (type) => {
      const json = ctyTypeJson(type);
      assert(ctyTypeJson(parseCtyTypeJson(JSON.parse(json))) === json, json);
    }),
    { numRuns: 1000 },
  );
});

/** Decoding may fail only with CtyDecodeError; what it returns must survive encode + decode unchanged. */
function decodeOrCtyError(bytes: Uint8Array, type: CtyType): void {
  let value: CtyValue;
  try {
    value = decodeCty(bytes, type);
  } catch (e) {
    if (e instanceof CtyDecodeError) return;
    throw e;
  }
  assertEquals(decodeCty(encodeCty(value, type), type), value);
}

Deno.test("property: random bytes never throw anything but CtyDecodeError", () => {
  fc.assert(
    fc.property(typeArb, fc.uint8Array({ maxLength: 64 }), (type, bytes) => decodeOrCtyError(bytes, type)),
    { numRuns: 2000 },
  );
});

Deno.test("property: a string decodes as a strict UTF-8 decoder reads its bytes, NFC-normalized", () => {
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 40, max: 0x7f }),
    fc.string({ unit: "binary", maxLength: 20 }).map((s) => new TextEncoder().encode(s)),
  );
  fc.assert(
    fc.property(bytes, (raw) => {
      let want: string | undefined;
      try {
        want = strict.decode(raw).normalize("NFC");
      } catch {
        want = undefined;
      }
      const doc = new Uint8Array([0xd9, raw.length, ...raw]);
      if (want === undefined) assertDecodeError(doc, "string");
      else assertEquals(decodeCty(doc, "string"), want);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("property: a map key decodes as its bytes do as a string, whatever follows it", () => {
  // Short keys (the library cached keys of up to 16 bytes) ending in cut-short or stray bytes.
  const keyBytes = fc.tuple(
    fc.uint8Array({ maxLength: 12 }),
    fc.constantFrom(0xc2, 0xe2, 0xf0, 0xff, 0xed, 0x80, 0x41),
  ).map(([head, last]) => new Uint8Array([...head, last]));
  fc.assert(
    fc.property(keyBytes, fc.integer({ min: 0, max: 0x7f }), (key, next) => {
      let text: string | undefined;
      try {
        text = decodeCty(new Uint8Array([0xa0 | key.length, ...key]), "string") as string;
      } catch (e) {
        if (!(e instanceof CtyDecodeError)) throw e;
      }
      const map = new Uint8Array([0x81, 0xa0 | key.length, ...key, next]);
      if (text === undefined) {
        assertDecodeError(
          map,
          { map: "number" },
          `not valid cty msgpack: a map key is not UTF-8 (${key.length} byte${key.length === 1 ? "" : "s"})`,
        );
      } else {
        // String values are NFC-normalized as cty does; keys are not (nor are they in cty).
        const keys = Object.keys(decodeCty(map, { map: "number" }) as object);
        assertEquals(keys.map((k) => k.normalize("NFC")), [text]);
      }
    }),
    // U+0340, which NFC turns into U+0300 (found by this property)
    { numRuns: 2000, examples: [[new Uint8Array([0xcd, 0x80]), 0]] },
  );
});

Deno.test("property: mutated valid encodings never throw anything but CtyDecodeError", () => {
  const mutation = fc.record({
    kind: fc.constantFrom("set", "cut", "insert", "delete"),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(
      typedValueArb,
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      ({ type, value }, edits) => {
        let bytes = Array.from(encodeCty(value, type));
        for (const { kind, at, byte } of edits) {
          const i = bytes.length === 0 ? 0 : at % bytes.length;
          if (kind === "set" && bytes.length > 0) bytes[i] = byte;
          else if (kind === "cut") bytes = bytes.slice(0, i);
          else if (kind === "insert") bytes.splice(i, 0, byte);
          else bytes.splice(i, 1);
        }
        decodeOrCtyError(new Uint8Array(bytes), type);
      },
    ),
    { numRuns: 2000 },
  );
});

/** Any msgpack document (not only cty-shaped ones): what a confused or hostile sender could write. */
const msgpackArb: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { maxDepth: 3, depthSize: "small" },
    fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom(
        '"string"',
        '"dynamic"',
        '["list","number"]',
        '["object",{"a":"bool"}]',
        "1e3",
        "0.5",
        "Inf",
      ),
      fc.integer(),
      fc.double(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array({ maxLength: 4 }),
      fc.tuple(fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 3 })).map(([t, d]) =>
        new ExtData(t, d)
      ),
    ),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(attrName, tie("v"), { maxKeys: 3 }),
  ),
})).v;

Deno.test("property: well-formed msgpack of any shape never throws anything but CtyDecodeError", () => {
  fc.assert(
    fc.property(typeArb, msgpackArb, (type, doc) => {
      decodeOrCtyError(encodeMsgpack(doc, { useBigInt64: true }), type);
    }),
    { numRuns: 2000 },
  );
});
