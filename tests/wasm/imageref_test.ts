/**
 * assembly/imageref (through src/image/reference_wasm.ts) against the TS reference src/image/reference.ts:
 * a fixture table of real-world references (valid and invalid, after distribution/reference's own test
 * cases and Docker's normalization), then differential properties (WASM result or error == TS result or
 * error) over arbitrary strings and grammar-shaped ones.
 */
import fc from "fast-check";
import { assert, assertEquals } from "../harness/assert.ts";
import { InvalidReferenceError, normalizeReference, parseReference } from "../../src/image/reference.ts";
import {
  changesWhenLowercasedWasm,
  normalizeReferenceWasm,
  parseReferenceWasm,
} from "../../src/image/reference_wasm.ts";

const F64 = "f".repeat(64);
const D256 = `sha256:${F64}`;
const D512 = `sha512:${"f".repeat(128)}`;

/** [input, normalized reference] */
const VALID: [string, string][] = [
  ["busybox", "docker.io/library/busybox:latest"],
  ["redis:7", "docker.io/library/redis:7"],
  ["docker://redis", "docker.io/library/redis:latest"],
  ["library/debian", "docker.io/library/debian:latest"],
  ["docker/docker", "docker.io/docker/docker:latest"],
  ["docker.io/debian", "docker.io/library/debian:latest"],
  ["docker.io/library/debian:bookworm", "docker.io/library/debian:bookworm"],
  ["index.docker.io/docker/docker", "docker.io/docker/docker:latest"],
  ["index.docker.io/library/debian", "docker.io/library/debian:latest"],
  ["index.docker.io/debian", "docker.io/library/debian:latest"],
  ["localhost/debian", "localhost/debian:latest"],
  ["localhost:5000/docker/docker", "localhost:5000/docker/docker:latest"],
  ["localhost:5000/debian", "localhost:5000/debian:latest"],
  ["example.com/debian", "example.com/debian:latest"],
  ["ghcr.io/hashicorp/nomad:1.10.5", "ghcr.io/hashicorp/nomad:1.10.5"],
  ["quay.io/coreos/etcd:v3.5.9", "quay.io/coreos/etcd:v3.5.9"],
  ["registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"],
  ["gcr.io/distroless/static-debian12:nonroot", "gcr.io/distroless/static-debian12:nonroot"],
  ["mcr.microsoft.com/dotnet/runtime:8.0", "mcr.microsoft.com/dotnet/runtime:8.0"],
  ["public.ecr.aws/docker/library/alpine:3.19", "public.ecr.aws/docker/library/alpine:3.19"],
  [
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:prod",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:prod",
  ],
  ["test_com", "docker.io/library/test_com:latest"],
  ["test.com:tag", "docker.io/library/test.com:tag"],
  ["test.com:5000", "docker.io/library/test.com:5000"],
  ["test.com/repo:tag", "test.com/repo:tag"],
  ["test:5000/repo", "test:5000/repo:latest"],
  ["test:5000/repo:tag", "test:5000/repo:tag"],
  [`test:5000/repo@${D256}`, `test:5000/repo@${D256}`],
  [`test:5000/repo:tag@${D256}`, `test:5000/repo@${D256}`],
  ["lowercase:Uppercase", "docker.io/library/lowercase:Uppercase"],
  ["sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com/bar/baz/quux:latest"],
  ["sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag"],
  ["b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app:test.example.com"],
  ["xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com"],
  [`xn--7o8h.com/myimage:xn--7o8h.com@${D512}`, `xn--7o8h.com/myimage@${D512}`],
  ["foo_bar.com:8080", "docker.io/library/foo_bar.com:8080"],
  ["foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com:8080"],
  ["192.168.1.1", "docker.io/library/192.168.1.1:latest"],
  ["192.168.1.1:tag", "docker.io/library/192.168.1.1:tag"],
  ["192.168.1.1:5000", "docker.io/library/192.168.1.1:5000"],
  ["192.168.1.1/repo", "192.168.1.1/repo:latest"],
  ["192.168.1.1:5000/repo", "192.168.1.1:5000/repo:latest"],
  ["192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo:5050"],
  ["a.b.c.d.e", "docker.io/library/a.b.c.d.e:latest"],
  ["[2001:db8::1]:5000/repo", "[2001:db8::1]:5000/repo:latest"],
  ["[2001:db8::1]/repo", "[2001:db8::1]/repo:latest"],
  ["[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]/repo:tag"],
  ["[2001:db8::]:5000/repo", "[2001:db8::]:5000/repo:latest"],
  ["[::1]:5000/repo", "[::1]:5000/repo:latest"],
  ["127.0.0.1:15000/cdrv/busybox:1", "127.0.0.1:15000/cdrv/busybox:1"],
  ["Docker/docker", "Docker/docker:latest"],
  ["EXAMPLE.com/repo", "EXAMPLE.com/repo:latest"],
  ["foo--bar", "docker.io/library/foo--bar:latest"],
  ["foo__bar", "docker.io/library/foo__bar:latest"],
  ["repo:_tag", "docker.io/library/repo:_tag"],
  [`${"a/".repeat(100)}a:tag`, `docker.io/${"a/".repeat(100)}a:tag`],
  [`alpine@${D256}`, `docker.io/library/alpine@${D256}`],
  [`alpine:3.19@${D256}`, `docker.io/library/alpine@${D256}`],
  [`redis@sha384:${"0".repeat(96)}`, `docker.io/library/redis@sha384:${"0".repeat(96)}`],
];

/** [input, substring of the error message] */
const INVALID: [string, string][] = [
  ["", "must have at least one component"],
  ["docker://", "must have at least one component"],
  [":justtag", "invalid reference format"],
  [`@${D256}`, "invalid reference format"],
  [`repo@sha256:${F64}f`, "invalid checksum digest length"],
  [`validname@invaliddigest:${F64}`, 'unsupported digest algorithm "invaliddigest"'],
  [`repo:1@Sha256:${F64}`, "invalid digest format"],
  [`repo@Sha256:${F64}`, 'repository name "library/repo@Sha256" must be lowercase'],
  [`repo@sha256:${"F".repeat(64)}`, "invalid checksum digest format"],
  ["Uppercase:tag", 'repository name "library/Uppercase" must be lowercase'],
  ["test:5000/Uppercase/lowercase:tag", 'repository name "Uppercase/lowercase" must be lowercase'],
  ["Foo_bar.com/repo", "repository name must be lowercase"],
  [`${"a/".repeat(128)}a:tag`, "must not be more than 255 characters"],
  ["aa/asdf$$^/aa", "invalid reference format"],
  ["[2001:db8::1]", "invalid reference format"],
  ["[fe80::1%eth0]:5000/repo", "invalid reference format"],
  ["[2001:db8::1]:/repo", "invalid reference format"],
  ["test.com:port/repo", "invalid reference format"],
  ["-foo", "invalid reference format"],
  ["foo-", "invalid reference format"],
  ["foo..bar", "invalid reference format"],
  ["foo___bar", "invalid reference format"],
  ["foo//bar", "invalid reference format"],
  ["repo:-tag", "invalid reference format"],
  [`repo:${"a".repeat(129)}`, "invalid reference format"],
  ["redis: 7", "invalid reference format"],
  ["redis:7 ", "invalid reference format"],
  [F64, "cannot specify 64-byte hexadecimal strings"],
  ["ubuntu:22.04:x", "invalid reference format"],
  ["\u212Aoo", 'repository name "library/\u212Aoo" must be lowercase'],
  ["ÉCOLE/app", "invalid reference format"],
];

Deno.test("imageref fixtures: valid real-world references normalize the same in WASM and TS", () => {
  for (const [input, want] of VALID) {
    assertEquals(normalizeReferenceWasm(input), want, input);
    assertEquals(normalizeReference(input), want, input);
    assertEquals(parseReferenceWasm(input), parseReference(input), input);
  }
});

Deno.test("imageref fixtures: invalid references fail with the same error in WASM and TS", () => {
  for (const [input, reason] of INVALID) {
    const w = outcome(parseReferenceWasm, input);
    assertEquals(w, outcome(parseReference, input), input);
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
  const want = outcome(parseReference, s);
  const got = outcome(parseReferenceWasm, s);
  if (want !== got) throw new Error(`${JSON.stringify(s)}\n  ts:   ${want}\n  wasm: ${got}`);
}

// Object.prototype names break the reference's table lookups (reported); keep them out of generators.
const PROTO = /constructor|toString|valueOf|hasOwnProperty|isPrototypeOf|propertyIsEnumerable|toLocaleString/;

Deno.test("imageref wasm == ts: arbitrary strings (any UTF-16, printable ASCII, graphemes), 30 000 cases", () => {
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

Deno.test("imageref wasm == ts: grammar-shaped references (valid and near-valid), 20 000 cases", () => {
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

Deno.test("imageref wasm: the lowercase table agrees with this engine's String#toLowerCase everywhere", () => {
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const s = String.fromCodePoint(cp);
    if ((s.toLowerCase() !== s) !== changesWhenLowercasedWasm(cp)) {
      throw new Error(`U+${cp.toString(16)}: rerun assembly/imageref/gen_lower.ts`);
    }
  }
});

Deno.test("imageref wasm: long and non-ASCII inputs grow the module's memory and still match", () => {
  for (const s of ["a".repeat(70_000), "é".repeat(30_000) + "/x", `${"a/".repeat(40_000)}b`, "a".repeat(5)]) {
    same(s);
  }
});
