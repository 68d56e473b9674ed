/**
 * A codec for cty values in msgpack form, the encoding Nomad uses for a plugin's config
 * (`SetConfig.msgpack_config`) and a task's `config {}` block (`TaskConfig.msgpack_driver_config`).
 *
 * The wire format follows zclconf/go-cty's `cty/msgpack` package; msgpack itself is read and written
 * by `@msgpack/msgpack`. Decoding is type-directed: the same bytes mean different things for different
 * {@link CtyType}s, so the caller always passes the type (the hclspec's implied type).
 *
 * Choices, and where they differ from cty:
 * - Numbers. cty numbers are arbitrary-precision decimals; here an integer is a `number` when it is a
 *   safe integer (|n| ≤ 2^53 − 1) and a `bigint` otherwise, so integers are always exact. Any other
 *   number is the nearest float64 (what `JSON.parse` would give). cty writes numbers that are exact
 *   neither as int64 nor as float64 (such as 0.1 parsed from HCL, or 2^70) as decimal strings; decoding
 *   accepts those strings, and `Inf`/`-Inf`. A decimal string is rounded only when it is not an integer;
 *   an integer string of more than {@link MAX_NUMBER_DIGITS} digits is refused. Encoding writes a safe
 *   integer as a msgpack int, a `bigint` in int64 range as an int and beyond it as a decimal string
 *   (as cty does), and every other `number` (fractions, ±Infinity, integers beyond 2^53) as float64.
 *   NaN and −0 do not exist in cty: NaN is refused, −0 becomes 0.
 * - Unknown values decode to {@link UNKNOWN}: msgpack ext type 0 with any payload, the refined unknown
 *   ext type 0x0c (its refinements — not-null, string prefix, bounds — are ignored; like cty we require
 *   the payload to be empty, one byte, or a msgpack map of at most 1 KiB), and, as cty does, any other
 *   ext type whose payload is at most one byte. Encoding writes ext 0 with one zero byte (`d4 00 00`).
 *   A dynamic value's type is not kept: an unknown of any type is just UNKNOWN.
 * - Objects: every attribute must be present (cty writes null ones as nil); an attribute listed in
 *   `optional` may be missing and decodes as null. A key that is not an attribute is an error.
 * - Sets keep array order; equal known elements are merged (first one kept) on decode and on encode.
 * - Strings are NFC-normalized on decode and encode, as cty does when it creates a string value.
 * - Dynamic values decode to the value alone (its type is dropped); encoding infers the type from the
 *   JavaScript value (arrays become tuples, objects become objects, null stays a bare nil).
 * - Trailing bytes after the value are an error (cty ignores them). A map key `__proto__` is refused
 *   by `@msgpack/msgpack` and surfaces as a {@link CtyDecodeError}.
 *
 * @example
 * ```ts
 * import { decodeCty, encodeCty, type CtyType } from "./cty.ts";
 *
 * const type: CtyType = { object: { image: "string", args: { list: "string" } } };
 * const bytes = encodeCty({ image: "busybox", args: ["sleep", "1"] }, type);
 * decodeCty(bytes, type); // { image: "busybox", args: ["sleep", "1"] }
 * ```
 *
 * @module
 */

import { Decoder, Encoder, ExtData, ExtensionCodec } from "@msgpack/msgpack";

// The cty types and values are declared in src/schema/values.ts (pure, shared with the spec and the
// playground) so that the config readers and this codec agree on one type.
import { type CtyType, type CtyValue, UNKNOWN } from "../schema/values.ts";
export { type CtyType, type CtyValue, UNKNOWN };

/**
 * Thrown by {@link decodeCty} (and {@link parseCtyTypeJson}) when bytes are not valid cty msgpack of
 * the given type. `path` is the way to the offending value: attribute names, list indexes and map
 * keys as strings. The message starts with that path (`"mounts[0].target": ...`) unless the error is
 * about the whole document, and never quotes more than about 60 characters of a value.
 *
 * @example
 * ```ts
 * import { CtyDecodeError, decodeCty } from "./cty.ts";
 *
 * try {
 *   decodeCty(new Uint8Array([0x81, 0xa1, 0x61, 0x05]), { object: { a: "string" } });
 * } catch (e) {
 *   if (e instanceof CtyDecodeError) console.log(e.path, e.message); // ["a"] "a": got a number (5), expected a string
 * }
 * ```
 */
export class CtyDecodeError extends Error {
  /** Attribute names, indexes and map keys leading to the value that failed. */
  readonly path: string[];

  /** Makes an error; `message` should already name the path. */
  constructor(message: string, path: string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = "CtyDecodeError";
    this.path = path;
  }
}

/** Integer decimal strings longer than this are refused rather than turned into huge bigints. */
export const MAX_NUMBER_DIGITS = 4096;

/** How deep values (and types read from dynamic values) may nest. */
const MAX_DEPTH = 256;
/** cty refuses refinement payloads larger than this. */
const MAX_REFINEMENT_BYTES = 1024;
/** How much of a value an error message may show. */
const MAX_SHOWN = 60;

const UNKNOWN_EXT = 0x00;
const REFINED_UNKNOWN_EXT = 0x0c;
const TIMESTAMP_EXT = -1;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

const extensionCodec = new ExtensionCodec();
// The built-in timestamp extension would turn ext -1 into a Date; to cty it is just another extension.
extensionCodec.register({
  type: TIMESTAMP_EXT,
  encode: () => null,
  decode: (data, type) => new ExtData(type, data),
});
extensionCodec.register({
  type: UNKNOWN_EXT,
  encode: (input) => input === UNKNOWN ? new Uint8Array([0]) : null,
  decode: () => UNKNOWN,
});
extensionCodec.register({
  type: REFINED_UNKNOWN_EXT,
  encode: () => null,
  // A malformed payload stays ExtData so that the type-directed walk reports it with its path.
  decode: (data, type) => isRefinementPayload(data) ? UNKNOWN : new ExtData(type, data),
});

const encoder = new Encoder({ useBigInt64: true, extensionCodec });
/** Strict: bytes that are not UTF-8 throw instead of becoming U+FFFD; a leading BOM is kept as text. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** A refinement payload is empty, a single byte, or starts with a msgpack map header (≤ 1 KiB). */
function isRefinementPayload(data: Uint8Array): boolean {
  if (data.length <= 1) return true;
  if (data.length > MAX_REFINEMENT_BYTES) return false;
  const head = data[0];
  return (head >= 0x80 && head <= 0x8f) || head === 0xde || head === 0xdf;
}

// ---------------------------------------------------------------------------------------------------
// Paths and messages

/** Where a value sits: the raw steps (for `CtyDecodeError.path`) and their rendering for messages. */
interface Path {
  readonly steps: string[];
  readonly text: string;
}

const ROOT: Path = { steps: [], text: "" };
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function attrStep(path: Path, name: string): Path {
  const shown = IDENTIFIER.test(name) && name.length <= MAX_SHOWN
    ? (path.text === "" ? name : `${path.text}.${name}`)
    : `${path.text}[${quote(name)}]`;
  return { steps: [...path.steps, name], text: shown };
}

function indexStep(path: Path, index: number): Path {
  return { steps: [...path.steps, String(index)], text: `${path.text}[${index}]` };
}

function prefix(path: Path): string {
  return path.text === "" ? "" : `"${path.text}": `;
}

function fail(path: Path, message: string, cause?: unknown): CtyDecodeError {
  return new CtyDecodeError(prefix(path) + message, path.steps, cause === undefined ? undefined : { cause });
}

function mismatch(path: Path, raw: unknown, type: CtyType): CtyDecodeError {
  return fail(path, `got ${describe(raw)}, expected ${expected(type)}`);
}

/** The first `n` UTF-16 units of `text`, without splitting a surrogate pair. */
function head(text: string, n: number): string {
  const cut = text.slice(0, n);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Cuts `text` to at most MAX_SHOWN characters, marking the cut with "...". */
function short(text: string): string {
  return text.length <= MAX_SHOWN ? text : head(text, MAX_SHOWN - 3) + "...";
}

/** A string in double quotes (JSON escapes), cut to at most MAX_SHOWN characters. */
function quote(text: string): string {
  const quoted = JSON.stringify(text);
  return quoted.length <= MAX_SHOWN ? quoted : head(quoted, MAX_SHOWN - 4) + '..."';
}

/** A list of names, quoted, comma-separated, cut to about MAX_SHOWN characters. */
function quoteList(names: string[]): string {
  let out = "";
  for (const name of names) {
    const next = out === "" ? quote(name) : `${out}, ${quote(name)}`;
    if (next.length > MAX_SHOWN && out !== "") return `${out}, ...`;
    out = next;
  }
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Describes a decoded msgpack value (or a value handed to the encoder) for an error message. */
function describe(raw: unknown): string {
  if (raw === null || raw === undefined) return "null";
  if (raw === UNKNOWN) return "an unknown value";
  switch (typeof raw) {
    case "string":
      return `a string (${quote(raw)})`;
    case "number":
    case "bigint":
      return `a number (${short(String(raw))})`;
    case "boolean":
      return `a bool (${raw})`;
    case "object":
      break;
    default:
      return `a ${typeof raw}`;
  }
  if (raw instanceof Uint8Array) {
    const text = textOf(raw);
    return text === undefined ? `bytes that are not UTF-8 (${plural(raw.length, "byte")})` : describe(text);
  }
  if (raw instanceof ExtData) {
    const size = typeof raw.data === "function" ? 0 : raw.data.length;
    return `msgpack extension type ${raw.type} (${plural(size, "byte")})`;
  }
  if (Array.isArray(raw)) {
    return raw.length === 0 ? "an empty array" : `an array of ${plural(raw.length, "element")}`;
  }
  if (!isPlainObject(raw)) return `a ${raw.constructor?.name ?? "object"}`;
  const keys = Object.keys(raw);
  return keys.length === 0 ? "an empty map" : `a map with ${plural(keys.length, "key")} (${quoteList(keys)})`;
}

/** cty's friendly name of a type, e.g. "list of map of string". */
function friendlyName(type: CtyType): string {
  if (typeof type === "string") return type;
  if ("list" in type) return `list of ${friendlyName(type.list)}`;
  if ("set" in type) return `set of ${friendlyName(type.set)}`;
  if ("map" in type) return `map of ${friendlyName(type.map)}`;
  if ("object" in type) return "object";
  return "tuple";
}

/** What a value of `type` looks like, for "expected ..." in messages. */
function expected(type: CtyType): string {
  if (type === "dynamic") return "a [type, value] pair (a dynamic value)";
  if (typeof type === "string") return `a ${type}`;
  if ("object" in type) {
    const names = Object.keys(type.object).sort(compareCodePoints);
    return names.length === 0
      ? "an object with no attributes"
      : `an object with attributes ${quoteList(names)}`;
  }
  if ("tuple" in type) return `a tuple of ${plural(type.tuple.length, "element")}`;
  return `a ${friendlyName(type)}`;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

/**
 * The text of a msgpack str (read raw, see readMsgpack) or bin, which cty also reads as a string;
 * `undefined` when the bytes are not UTF-8.
 */
function textOf(bytes: Uint8Array): string | undefined {
  // Most keys and values are short ASCII: a loop beats a TextDecoder call there (a task config decodes in
  // ~20 µs instead of ~40).
  if (bytes.length <= 32) {
    let text = "";
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] >= 0x80) break;
      text += String.fromCharCode(bytes[i]);
    }
    if (text.length === bytes.length) return text;
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** {@link textOf}, or an error at `path` that says the value is not text. */
function textAt(bytes: Uint8Array, path: Path): string {
  const text = textOf(bytes);
  if (text === undefined) throw fail(path, `got ${describe(bytes)}, expected UTF-8 text`);
  return text;
}

/**
 * Map keys, strictly: `@msgpack/msgpack`'s own key decoding reads past a key whose last character is
 * cut short and caches the result by the key's bytes, so a malformed key decoded differently depending
 * on what came after it and on earlier payloads (found by tests/fault/fuzz_test.ts).
 */
const keyDecoder = {
  canBeCached: () => true,
  decode(bytes: Uint8Array, offset: number, length: number): string {
    const text = textOf(bytes.subarray(offset, offset + length));
    if (text !== undefined) return text;
    throw new CtyDecodeError(
      `not valid cty msgpack: a map key is not UTF-8 (${plural(length, "byte")})`,
    );
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Sets an own property, also when the key is `__proto__`. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Orders strings by code point, which is the byte order of their UTF-8 (Go's sort.Strings). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (astral code points) above U+E000..U+FFFF, keeping every other order. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Canonical text of a known value, for merging equal set elements; undefined if it holds UNKNOWN. */
function setKey(v: CtyValue | undefined): string | undefined {
  if (v === UNKNOWN) return undefined;
  if (v === null || v === undefined) return "n";
  switch (typeof v) {
    case "string":
      return `s${v.length}:${v}`;
    case "number":
      return Number.isInteger(v) ? `#${BigInt(v)}` : `#${v}`;
    case "bigint":
      return `#${v}`;
    case "boolean":
      return v ? "t" : "f";
  }
  const parts: string[] = [];
  if (Array.isArray(v)) {
    for (const e of v) {
      const k = setKey(e);
      if (k === undefined) return undefined;
      parts.push(`${k.length}:${k}`);
    }
    return `[${parts.join("")}]`;
  }
  for (const name of Object.keys(v).sort(compareCodePoints)) {
    const k = setKey(v[name]);
    if (k === undefined) return undefined;
    parts.push(`${name.length}:${name}${k.length}:${k}`);
  }
  return `{${parts.join("")}}`;
}

/** Drops later duplicates of known values, keeping order. */
function uniqueElements(values: CtyValue[]): CtyValue[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = setKey(v);
    if (k === undefined) return true;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function toSafeNumber(v: bigint): number | bigint {
  return v >= SAFE_MIN && v <= SAFE_MAX ? Number(v) : v;
}

const DECIMAL = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)[Ii]nf$/;

/**
 * Reads a number the way cty's ParseNumberVal accepts it (a decimal with optional exponent, or Inf).
 * Integers come back exact; other numbers as the nearest float64.
 */
function parseDecimal(text: string): number | bigint | "invalid" | "too large" {
  const inf = INFINITY.exec(text);
  if (inf) return inf[1] === "-" ? -Infinity : Infinity;
  if (text.length > MAX_NUMBER_DIGITS + 32) return "too large";
  const m = DECIMAL.exec(text);
  if (!m) return "invalid";
  const [, whole = "", fraction = "", exponent = "0"] = m;
  if (whole === "" && fraction === "") return "invalid";
  let digits = (whole + fraction).replace(/^0+/, "");
  if (digits === "") return 0;
  const withoutZeros = digits.replace(/0+$/, "");
  const scale = Number(exponent) - fraction.length + (digits.length - withoutZeros.length);
  digits = withoutZeros;
  if (scale >= 0) {
    if (digits.length + scale > MAX_NUMBER_DIGITS) return "too large";
    const sign = text.startsWith("-") ? "-" : "";
    return toSafeNumber(BigInt(sign + digits + "0".repeat(scale)));
  }
  const n = Number(text);
  if (!Number.isFinite(n)) return "too large";
  return n === 0 ? 0 : n;
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes cty msgpack `bytes` as a value of `type`.
 *
 * @throws {CtyDecodeError} when the bytes are not msgpack, or not a value of `type`.
 *
 * @example
 * ```ts
 * import { decodeCty } from "./cty.ts";
 *
 * // {"image": "redis", "args": nil}
 * const bytes = new Uint8Array([0x82, 0xa5, ...new TextEncoder().encode("image"), 0xa5,
 *   ...new TextEncoder().encode("redis"), 0xa4, ...new TextEncoder().encode("args"), 0xc0]);
 * decodeCty(bytes, { object: { image: "string", args: { list: "string" } } });
 * // { image: "redis", args: null }
 * ```
 */
export function decodeCty(bytes: Uint8Array, type: CtyType): CtyValue {
  return fromRaw(readMsgpack(bytes), type, ROOT, 0);
}

function readMsgpack(bytes: Uint8Array): unknown {
  const decoder = new Decoder({
    useBigInt64: true,
    extensionCodec,
    // Strings arrive as bytes and are decoded strictly where a value is read (textAt): the library's
    // own decoding of short strings turns bytes that are not UTF-8 into other characters, reading past
    // the string's end when its last character is cut short.
    rawStrings: true,
    keyDecoder,
    // Every element takes at least one byte: refuse lengths the input cannot hold before allocating.
    maxArrayLength: bytes.length,
    maxMapLength: bytes.length,
    mapKeyConverter: (key: unknown) => {
      if (typeof key === "string") return key;
      throw new CtyDecodeError(`not valid cty msgpack: a map key is ${describe(key)}; keys must be strings`);
    },
  });
  try {
    return decoder.decode(bytes);
  } catch (e) {
    if (e instanceof CtyDecodeError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    // @msgpack/msgpack reports data that ends too early as a RangeError from DataView.
    const truncated = e instanceof RangeError && !reason.startsWith("Extra ");
    const message = truncated ? "the data ends in the middle of a value" : short(reason);
    throw new CtyDecodeError(`not valid msgpack: ${message}`, [], { cause: e });
  }
}

function fromRaw(raw: unknown, type: CtyType, path: Path, depth: number): CtyValue {
  if (depth > MAX_DEPTH) throw fail(path, `values nest more than ${MAX_DEPTH} levels deep`);
  // Like cty: an extension is an unknown value whatever the type, even a dynamic one.
  if (raw === UNKNOWN) return UNKNOWN;
  if (raw instanceof ExtData) return fromExtension(raw, path);
  if (type === "dynamic") return fromDynamic(raw, path, depth);
  if (raw === null) return null;
  switch (type) {
    case "string":
      if (raw instanceof Uint8Array) return textAt(raw, path).normalize("NFC"); // str, or bin as cty reads it
      throw mismatch(path, raw, type);
    case "number":
      return fromNumber(raw, path);
    case "bool":
      if (typeof raw === "boolean") return raw;
      throw mismatch(path, raw, type);
  }
  if ("list" in type || "set" in type) {
    if (!Array.isArray(raw)) throw mismatch(path, raw, type);
    const element = "list" in type ? type.list : type.set;
    const values = raw.map((e, i) => fromRaw(e, element, indexStep(path, i), depth + 1));
    return "set" in type ? uniqueElements(values) : values;
  }
  if ("map" in type) {
    if (!isPlainObject(raw)) throw mismatch(path, raw, type);
    const out: Record<string, CtyValue> = {};
    for (const key of Object.keys(raw)) {
      setOwn(out, key, fromRaw(raw[key], type.map, attrStep(path, key), depth + 1));
    }
    return out;
  }
  if ("object" in type) return fromObject(raw, type, path, depth);
  if ("tuple" in type) {
    if (!Array.isArray(raw) || raw.length !== type.tuple.length) throw mismatch(path, raw, type);
    return raw.map((e, i) => fromRaw(e, type.tuple[i], indexStep(path, i), depth + 1));
  }
  throw new TypeError(`decodeCty: not a cty type: ${describe(type)}`);
}

function fromExtension(ext: ExtData, path: Path): CtyValue {
  const size = typeof ext.data === "function" ? 0 : ext.data.length;
  if (ext.type === REFINED_UNKNOWN_EXT) {
    throw fail(
      path,
      `got a refined unknown value whose ${plural(size, "byte")} are not a msgpack map of at most 1 KiB`,
    );
  }
  // cty: an extension of at most one byte is an unknown value, whatever its type code.
  if (size <= 1) return UNKNOWN;
  throw fail(path, `got ${describe(ext)}, expected a value or an unknown (ext 0 or 0x0c)`);
}

function fromNumber(raw: unknown, path: Path): number | bigint {
  if (typeof raw === "number") {
    if (Number.isNaN(raw)) throw fail(path, "got NaN, expected a number");
    return raw === 0 ? 0 : raw;
  }
  if (typeof raw === "bigint") return toSafeNumber(raw);
  if (!(raw instanceof Uint8Array)) throw mismatch(path, raw, "number");
  const text = textAt(raw, path);
  const n = parseDecimal(text);
  if (n === "invalid") throw mismatch(path, raw, "number");
  if (n === "too large") {
    throw fail(
      path,
      `got ${describe(raw)}, a number beyond the ${MAX_NUMBER_DIGITS} digits this decoder accepts`,
    );
  }
  return n;
}

function fromObject(
  raw: unknown,
  type: { object: Record<string, CtyType>; optional?: string[] },
  path: Path,
  depth: number,
): CtyValue {
  if (!isPlainObject(raw)) throw mismatch(path, raw, type);
  const attrs = type.object;
  const names = Object.keys(attrs);
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(attrs, key)) {
      const allowed = names.length === 0
        ? "this object has no attributes"
        : `expected one of ${quoteList(names.sort(compareCodePoints))}`;
      throw fail(attrStep(path, key), `unsupported attribute; ${allowed}`);
    }
  }
  const optional = type.optional ?? [];
  const out: Record<string, CtyValue> = {};
  for (const name of names) {
    const at = attrStep(path, name);
    if (Object.hasOwn(raw, name)) {
      setOwn(out, name, fromRaw(raw[name], attrs[name], at, depth + 1));
    } else if (optional.includes(name)) {
      setOwn(out, name, null);
    } else {
      throw fail(at, "attribute missing (cty writes every attribute of an object, null ones as nil)");
    }
  }
  return out;
}

function fromDynamic(raw: unknown, path: Path, depth: number): CtyValue {
  if (raw === null) return null;
  if (!Array.isArray(raw) || raw.length !== 2) throw mismatch(path, raw, "dynamic");
  const [typeRaw, valueRaw] = raw;
  let text: string;
  if (typeRaw instanceof Uint8Array) text = textAt(typeRaw, path);
  else throw fail(path, `got ${describe(typeRaw)} as the type of a dynamic value, expected type JSON`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fail(path, `the type of a dynamic value is not JSON: ${quote(text)}`, e);
  }
  let type: CtyType;
  try {
    type = parseType(json, depth);
  } catch (e) {
    if (!(e instanceof CtyDecodeError)) throw e;
    throw fail(path, `the type of a dynamic value is not a cty type: ${e.message}`, e);
  }
  return fromRaw(valueRaw, type, path, depth + 1);
}

// ---------------------------------------------------------------------------------------------------
// Type JSON

/**
 * Reads cty's JSON type syntax (already parsed from JSON), as found in dynamic values:
 * `"string"`, `"number"`, `"bool"`, `"dynamic"`, `["list", T]`, `["set", T]`, `["map", T]`,
 * `["object", {"name": T, ...}]` or `["object", {...}, ["optional", "names"]]`, `["tuple", [T, ...]]`.
 *
 * @throws {CtyDecodeError} when `json` is not a cty type.
 *
 * @example
 * ```ts
 * import { parseCtyTypeJson } from "./cty.ts";
 *
 * parseCtyTypeJson(JSON.parse('["object",{"ports":["list","number"]}]'));
 * // { object: { ports: { list: "number" } } }
 * ```
 */
export function parseCtyTypeJson(json: unknown): CtyType {
  return parseType(json, 0);
}

function badType(message: string): CtyDecodeError {
  return new CtyDecodeError(message);
}

function showJson(json: unknown): string {
  try {
    return short(JSON.stringify(json) ?? String(json));
  } catch {
    return typeof json;
  }
}

function parseType(json: unknown, depth: number): CtyType {
  if (depth > MAX_DEPTH) throw badType(`type nests more than ${MAX_DEPTH} levels deep`);
  if (typeof json === "string") {
    switch (json) {
      case "string":
      case "number":
      case "bool":
      case "dynamic":
        return json;
    }
    throw badType(`unknown primitive type ${quote(json)}; use "string", "number", "bool" or "dynamic"`);
  }
  if (!Array.isArray(json) || json.length < 2) {
    throw badType(`${showJson(json)} is not a type; use a primitive name or ["kind", ...]`);
  }
  const [kind, arg] = json;
  const exactly = (n: number) => {
    if (json.length !== n) throw badType(`${showJson(json)}: a ${kind} type has ${n - 1} argument(s)`);
  };
  switch (kind) {
    case "list":
      exactly(2);
      return { list: parseType(arg, depth + 1) };
    case "set":
      exactly(2);
      return { set: parseType(arg, depth + 1) };
    case "map":
      exactly(2);
      return { map: parseType(arg, depth + 1) };
    case "tuple":
      exactly(2);
      if (!Array.isArray(arg)) throw badType(`${showJson(json)}: a tuple type needs an array of types`);
      return { tuple: arg.map((t) => parseType(t, depth + 1)) };
    case "object": {
      if (json.length > 3) throw badType(`${showJson(json)}: an object type has 1 or 2 arguments`);
      if (!isPlainObject(arg)) {
        throw badType(`${showJson(json)}: an object type needs a map of attribute types`);
      }
      const attrs: Record<string, CtyType> = {};
      for (const name of Object.keys(arg)) setOwn(attrs, name, parseType(arg[name], depth + 1));
      if (json.length === 2) return { object: attrs };
      const optional = json[2];
      if (
        !Array.isArray(optional) || !optional.every((n) => typeof n === "string" && Object.hasOwn(attrs, n))
      ) {
        throw badType(`${showJson(json)}: optional attributes must be a list of attribute names`);
      }
      return optional.length === 0 ? { object: attrs } : { object: attrs, optional: [...optional] };
    }
  }
  throw badType(`${showJson(json)}: unknown type kind; use list, set, map, object or tuple`);
}

/** A JSON string as Go's encoding/json writes it (it also escapes <, >, & and U+2028/U+2029). */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Writes `type` in cty's JSON type syntax, byte for byte as cty does (attribute names sorted,
 * no spaces). The inverse of {@link parseCtyTypeJson}.
 *
 * @example
 * ```ts
 * import { ctyTypeJson } from "./cty.ts";
 *
 * ctyTypeJson({ object: { b: "bool", a: { list: "string" } } }); // '["object",{"a":["list","string"],"b":"bool"}]'
 * ```
 */
export function ctyTypeJson(type: CtyType): string {
  if (typeof type === "string") return `"${type}"`;
  if ("list" in type) return `["list",${ctyTypeJson(type.list)}]`;
  if ("set" in type) return `["set",${ctyTypeJson(type.set)}]`;
  if ("map" in type) return `["map",${ctyTypeJson(type.map)}]`;
  if ("tuple" in type) return `["tuple",[${type.tuple.map(ctyTypeJson).join(",")}]]`;
  const names = Object.keys(type.object).sort(compareCodePoints);
  const attrs = names.map((n) => `${goJsonString(n)}:${ctyTypeJson(type.object[n])}`).join(",");
  const optional = [...new Set(type.optional ?? [])].sort(compareCodePoints);
  const tail = optional.length === 0 ? "" : `,[${optional.map(goJsonString).join(",")}]`;
  return `["object",{${attrs}}${tail}]`;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/** Collects msgpack bytes: container headers written here, everything else by @msgpack/msgpack. */
class Writer {
  #parts: Uint8Array[] = [];
  #size = 0;

  leaf(value: unknown): void {
    this.#push(encoder.encode(value));
  }

  header(kind: "array" | "map", length: number): void {
    const [fix, len16, len32] = kind === "array" ? [0x90, 0xdc, 0xdd] : [0x80, 0xde, 0xdf];
    if (length < 16) {
      this.#push(new Uint8Array([fix | length]));
    } else if (length < 0x10000) {
      this.#push(new Uint8Array([len16, length >> 8, length & 0xff]));
    } else {
      const b = new Uint8Array(5);
      b[0] = len32;
      new DataView(b.buffer).setUint32(1, length);
      this.#push(b);
    }
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  #push(part: Uint8Array): void {
    this.#parts.push(part);
    this.#size += part.length;
  }
}

/**
 * Encodes `value` as cty msgpack of `type`, as cty would write it: object attributes and map keys in
 * sorted order, every object attribute present (a missing or `undefined` one as nil), unknown values
 * as ext 0, dynamic values as `[type JSON (bin), value]`.
 *
 * @throws {TypeError} when `value` does not fit `type` (the message names the path).
 *
 * @example
 * ```ts
 * import { encodeCty, UNKNOWN } from "./cty.ts";
 *
 * encodeCty({ a: null, b: 1 }, { object: { a: "string", b: "number" } });
 * // Uint8Array [0x82, 0xa1, 0x61, 0xc0, 0xa1, 0x62, 0x01]
 * encodeCty(UNKNOWN, "string"); // Uint8Array [0xd4, 0x00, 0x00]
 * ```
 */
export function encodeCty(value: CtyValue, type: CtyType): Uint8Array {
  const w = new Writer();
  write(w, value, type, ROOT, 0);
  return w.bytes();
}

function refuse(path: Path, value: unknown, type: CtyType): TypeError {
  return new TypeError(`encodeCty: ${prefix(path)}got ${describe(value)}, expected ${expected(type)}`);
}

function write(w: Writer, value: CtyValue | undefined, type: CtyType, path: Path, depth: number): void {
  if (depth > MAX_DEPTH) {
    throw new TypeError(`encodeCty: ${prefix(path)}values nest more than ${MAX_DEPTH} levels`);
  }
  if (value === UNKNOWN) return w.leaf(UNKNOWN);
  if (value === null || value === undefined) return w.leaf(null);
  switch (type) {
    case "dynamic": {
      const actual = inferType(value, path, depth);
      w.header("array", 2);
      w.leaf(utf8Encoder.encode(ctyTypeJson(actual)));
      return write(w, value, actual, path, depth + 1);
    }
    case "string":
      if (typeof value !== "string") throw refuse(path, value, type);
      return w.leaf(value.normalize("NFC"));
    case "number":
      if (typeof value !== "number" && typeof value !== "bigint") throw refuse(path, value, type);
      return w.leaf(numberForEncoder(value, path));
    case "bool":
      if (typeof value !== "boolean") throw refuse(path, value, type);
      return w.leaf(value);
  }
  if ("object" in type) return writeObject(w, value, type, path, depth);
  writeCollection(w, value, type, path, depth);
}

/** A list, set, tuple or map: a msgpack array (a set's elements once each) or a map with sorted keys. */
function writeCollection(w: Writer, value: CtyValue, type: CtyType, path: Path, depth: number): void {
  if (typeof type === "string") throw new TypeError(`encodeCty: not a collection type: ${describe(type)}`);
  if ("list" in type || "set" in type) {
    if (!Array.isArray(value)) throw refuse(path, value, type);
    const element = "list" in type ? type.list : type.set;
    const values = "set" in type ? uniqueElements(value) : value;
    w.header("array", values.length);
    values.forEach((e, i) => write(w, e, element, indexStep(path, i), depth + 1));
    return;
  }
  if ("tuple" in type) {
    if (!Array.isArray(value) || value.length !== type.tuple.length) throw refuse(path, value, type);
    w.header("array", value.length);
    value.forEach((e, i) => write(w, e, type.tuple[i], indexStep(path, i), depth + 1));
    return;
  }
  if ("map" in type) {
    if (!isPlainObject(value)) throw refuse(path, value, type);
    const keys = Object.keys(value).sort(compareCodePoints);
    w.header("map", keys.length);
    for (const key of keys) {
      w.leaf(key);
      write(w, value[key], type.map, attrStep(path, key), depth + 1);
    }
    return;
  }
  throw new TypeError(`encodeCty: not a cty type: ${describe(type)}`);
}

/** An object: a msgpack map of every attribute of the type (absent ones nil), in code point order. */
function writeObject(
  w: Writer,
  value: CtyValue,
  type: { object: Record<string, CtyType>; optional?: string[] },
  path: Path,
  depth: number,
): void {
  if (!isPlainObject(value)) throw refuse(path, value, type);
  const attrs = type.object;
  const names = Object.keys(attrs).sort(compareCodePoints);
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(attrs, key)) {
      throw new TypeError(`encodeCty: ${prefix(attrStep(path, key))}not an attribute of ${expected(type)}`);
    }
  }
  w.header("map", names.length);
  for (const name of names) {
    w.leaf(name);
    write(w, Object.hasOwn(value, name) ? value[name] : null, attrs[name], attrStep(path, name), depth + 1);
  }
}

/** What the msgpack encoder should get for a cty number so that it writes what cty writes. */
function numberForEncoder(value: number | bigint, path: Path): number | bigint | string {
  if (typeof value === "bigint") {
    if (value >= SAFE_MIN && value <= SAFE_MAX) return numberForEncoder(Number(value), path);
    // cty writes integers beyond int64 as decimal strings.
    return value >= INT64_MIN && value <= INT64_MAX ? value : value.toString();
  }
  if (Number.isNaN(value)) throw new TypeError(`encodeCty: ${prefix(path)}NaN is not a cty number`);
  if (Number.isSafeInteger(value)) {
    // @msgpack/msgpack (with useBigInt64) writes integers beyond 32 bits as floats; cty writes ints.
    if (value > 0xffffffff || value < -0x80000000) return BigInt(value);
    return value === 0 ? 0 : value;
  }
  return value; // float64: fractions, ±Infinity, and integers too large to be exact as a number
}

/** The cty type cty would give a JavaScript value stored in a dynamic slot. */
function inferType(value: CtyValue | undefined, path: Path, depth: number): CtyType {
  if (depth > MAX_DEPTH) {
    throw new TypeError(`encodeCty: ${prefix(path)}values nest more than ${MAX_DEPTH} levels`);
  }
  if (value === null || value === undefined || value === UNKNOWN) return "dynamic";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
    case "bigint":
      return "number";
    case "boolean":
      return "bool";
  }
  if (Array.isArray(value)) {
    return { tuple: value.map((e, i) => inferType(e, indexStep(path, i), depth + 1)) };
  }
  if (!isPlainObject(value)) {
    throw new TypeError(`encodeCty: ${prefix(path)}got ${describe(value)}, which has no cty type`);
  }
  const attrs: Record<string, CtyType> = {};
  for (const key of Object.keys(value)) {
    setOwn(attrs, key, inferType(value[key], attrStep(path, key), depth + 1));
  }
  return { object: attrs };
}
