/**
 * The WASM parser (src/image/reference.ts, assembly/imageref) against the plain-TS oracle
 * (tests/oracles/reference.ts): the oracle passes the fixture tables (tests/fixtures/image_refs.ts) that
 * reference_test.ts holds the WASM parser to, then WASM result or error == oracle result or error over
 * arbitrary strings and grammar-shaped ones.
 */
import fc from "fast-check";
import { assert, assertEquals } from "../../tests/harness/assert.ts";
import { changesWhenLowercased, InvalidReferenceError, parseReference } from "./reference.ts";
import { normalizeReferenceOracle, parseReferenceOracle } from "../../tests/oracles/reference.ts";
import { INVALID_REFS, VALID_REFS } from "../../tests/fixtures/image_refs.ts";

Deno.test("reference oracle: the fixtures' valid references normalize as the table says, as in WASM", () => {
  for (const [input, want] of VALID_REFS) {
    assertEquals(normalizeReferenceOracle(input), want, input);
    assertEquals(parseReference(input), parseReferenceOracle(input), input);
  }
});

Deno.test("reference oracle: the fixtures' invalid references fail with the same error as in WASM", () => {
  for (const [input, reason] of INVALID_REFS) {
    const w = outcome(parseReference, input);
    assertEquals(w, outcome(parseReferenceOracle, input), input);
    assert(w.startsWith("InvalidReferenceError: ") && w.includes(reason), `${JSON.stringify(input)}: ${w}`);
    assert(w.includes(JSON.stringify(input)), `the message names the input: ${w}`);
  }
});

/** The result as JSON, or the error class and message. */
function outcome(f: (s: string) => unknown, s: string): string {
  try {
    return JSON.stringify(f(s));
  } catch (e) {
    if (!(e instanceof InvalidReferenceError)) throw e;
    return `${e.name}: ${e.message}`;
  }
}

function same(s: string): void {
  const want = outcome(parseReferenceOracle, s);
  const got = outcome(parseReference, s);
  if (want !== got) throw new Error(`${JSON.stringify(s)}\n  ts:   ${want}\n  wasm: ${got}`);
}

// Object.prototype names break the reference's table lookups (reported); keep them out of generators.
const PROTO = /constructor|toString|valueOf|hasOwnProperty|isPrototypeOf|propertyIsEnumerable|toLocaleString/;

Deno.test("reference wasm == oracle: arbitrary strings (any UTF-16, printable ASCII, graphemes), 30 000 cases", () => {
  for (const unit of ["binary", "grapheme-ascii", "grapheme"] as const) {
    fc.assert(fc.property(fc.string({ unit, maxLength: 48 }), same), { numRuns: 10_000 });
  }
});

// Grammar-shaped: the pieces references are made of, glued in any order, so most strings are near-valid.
const piece = fc.oneof(
  fc.constantFrom(
    ..."aAzZ09._-:/@[]K%$ é".split(""),
    "\u212A",
    "\u0130",
    "docker://",
    "docker.io",
    "index.docker.io",
    "localhost",
    "library",
    "sha256",
    "sha384",
    "sha512",
    "md5",
    "latest",
    "__",
    "--",
    "::1",
    ":5000",
  ),
  fc.stringMatching(/^[a-f0-9]{30,66}$/),
  fc.stringMatching(/^[a-z0-9]{1,8}$/),
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/),
);
const nearValid = fc.array(piece, { maxLength: 14 }).map((p) => p.join(""));

const alnum = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const component = fc.tuple(
  alnum,
  fc.array(fc.tuple(fc.constantFrom(".", "_", "__", "-", "---"), alnum), {
    maxLength: 2,
  }),
).map(([a, r]) => a + r.map(([s, b]) => s + b).join(""));
const host = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,5}[a-zA-Z0-9])?(\.[a-zA-Z0-9-]{1,6}){0,3}$/),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join(".")),
  fc.stringMatching(/^\[[a-fA-F0-9:]{1,12}\]$/),
  fc.constantFrom("localhost", "docker.io", "index.docker.io", "Docker", "[::1]"),
);
const domain = fc.tuple(host, fc.option(fc.stringMatching(/^:[0-9]{0,6}$/), { nil: "" })).map(([h, p]) =>
  h + p
);
const ref = fc.record({
  transport: fc.constantFrom("", "", "", "docker://"),
  domain: fc.option(domain, { nil: undefined }),
  path: fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join("/")),
  tag: fc.option(fc.stringMatching(/^[A-Za-z0-9_.-]{1,130}$/), { nil: undefined }),
  digest: fc.option(
    fc.tuple(
      fc.constantFrom("sha256", "sha256", "sha384", "sha512", "sha1", "SHA256", "blake3", "a+b", "x.y-z"),
      fc.oneof(
        fc.stringMatching(/^[a-f0-9]{64}$/),
        fc.stringMatching(/^[a-f0-9]{96}$/),
        fc.stringMatching(/^[a-f0-9]{128}$/),
        fc.stringMatching(/^[a-fA-F0-9]{30,130}$/),
      ),
    ).map(([a, h]) => `${a}:${h}`),
    { nil: undefined },
  ),
}).map((r) =>
  r.transport + (r.domain === undefined ? "" : `${r.domain}/`) + r.path +
  (r.tag === undefined ? "" : `:${r.tag}`) +
  (r.digest === undefined ? "" : `@${r.digest}`)
);

Deno.test("reference wasm == oracle: grammar-shaped references (valid and near-valid), 20 000 cases", () => {
  let valid = 0;
  let digests = 0;
  fc.assert(
    fc.property(ref, (s) => {
      same(s);
      try {
        const r = parseReference(s);
        valid++;
        if (r.digest) digests++;
      } catch { /* counted as invalid */ }
    }),
    { numRuns: 10_000 },
  );
  // the generator must reach the success paths, digests included
  assert(valid > 1_000 && digests > 300, `only ${valid} valid, ${digests} with digests`);
  fc.assert(fc.property(nearValid.filter((s) => !PROTO.test(s)), same), { numRuns: 10_000 });
});

Deno.test("reference wasm: the lowercase table agrees with this engine's String#toLowerCase everywhere", () => {
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const s = String.fromCodePoint(cp);
    if ((s.toLowerCase() !== s) !== changesWhenLowercased(cp)) {
      throw new Error(`U+${cp.toString(16)}: rerun assembly/imageref/gen_lower.ts`);
    }
  }
});

Deno.test("reference wasm: long and non-ASCII inputs grow the module's memory and still match", () => {
  for (const s of ["a".repeat(70_000), "é".repeat(30_000) + "/x", `${"a/".repeat(40_000)}b`, "a".repeat(5)]) {
    same(s);
  }
});
