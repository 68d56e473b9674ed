import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import {
  digestProblem,
  familiarReference,
  formatReference,
  InvalidReferenceError,
  normalizeReference,
  parseReference,
} from "./reference.ts";

const H64 = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const D = `sha256:${H64}`;

// [input, normalized] — cases written after distribution/reference's grammar and normalization rules.
const VALID: [string, string][] = [
  ["busybox", "docker.io/library/busybox:latest"],
  ["docker://busybox", "docker.io/library/busybox:latest"],
  ["test_com", "docker.io/library/test_com:latest"],
  ["test.com:tag", "docker.io/library/test.com:tag"],
  ["test.com:5000", "docker.io/library/test.com:5000"],
  ["test.com/repo:tag", "test.com/repo:tag"],
  ["test:5000/repo", "test:5000/repo:latest"],
  ["test:5000/repo:tag", "test:5000/repo:tag"],
  [`test:5000/repo@${D}`, `test:5000/repo@${D}`],
  [`test:5000/repo:tag@${D}`, `test:5000/repo@${D}`],
  ["lowercase:Uppercase", "docker.io/library/lowercase:Uppercase"],
  ["foo_bar.com:8080", "docker.io/library/foo_bar.com:8080"],
  ["foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com:8080"],
  ["192.168.1.1", "docker.io/library/192.168.1.1:latest"],
  ["192.168.1.1:tag", "docker.io/library/192.168.1.1:tag"],
  ["192.168.1.1:5000", "docker.io/library/192.168.1.1:5000"],
  ["192.168.1.1/repo", "192.168.1.1/repo:latest"],
  ["192.168.1.1:5000/repo", "192.168.1.1:5000/repo:latest"],
  ["127.0.0.1:15000/cdrv/busybox:1", "127.0.0.1:15000/cdrv/busybox:1"],
  ["[2001:db8::1]/repo", "[2001:db8::1]/repo:latest"],
  ["[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000/repo:tag"],
  ["[::1]:5000/a/b", "[::1]:5000/a/b:latest"],
  ["localhost/repo", "localhost/repo:latest"],
  ["localhost:5000/repo:v1", "localhost:5000/repo:v1"],
  ["localhost", "docker.io/library/localhost:latest"],
  ["index.docker.io/library/foo", "docker.io/library/foo:latest"],
  ["index.docker.io/foo", "docker.io/library/foo:latest"],
  ["docker.io/foo", "docker.io/library/foo:latest"],
  ["docker.io/library/foo:latest", "docker.io/library/foo:latest"],
  ["docker.io/dmcgowan/myapp", "docker.io/dmcgowan/myapp:latest"],
  ["a/b/c/d", "docker.io/a/b/c/d:latest"],
  ["xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com"],
  ["sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag"],
  ["b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app:test.example.com"],
  ["foo--bar", "docker.io/library/foo--bar:latest"],
  ["foo__bar", "docker.io/library/foo__bar:latest"],
  ["foo.bar-baz_qux", "docker.io/library/foo.bar-baz_qux:latest"],
  ["Docker/docker", "Docker/docker:latest"],
  ["EXAMPLE.com/repo", "EXAMPLE.com/repo:latest"],
  ["repo:_tag", "docker.io/library/repo:_tag"],
  [`repo:${"a".repeat(128)}`, `docker.io/library/repo:${"a".repeat(128)}`],
  [`busybox@sha512:${"a".repeat(128)}`, `docker.io/library/busybox@sha512:${"a".repeat(128)}`],
  [`${"a".repeat(245)}`, `docker.io/library/${"a".repeat(245)}:latest`],
];

// [input, substring of the reason]
const INVALID: [string, string][] = [
  ["", "at least one component"],
  ["docker://", "at least one component"],
  [":justtag", "invalid reference format"],
  [`@${D}`, "invalid reference format"],
  [`repo@sha256:${H64}f`, "digest length"],
  [`validname@invaliddigest:${H64}`, "unsupported digest algorithm"],
  [`repo@sha256:${"F".repeat(64)}`, "digest format"],
  [`repo@sha256:${"f".repeat(31)}`, "invalid reference format"],
  ["Uppercase:tag", "must be lowercase"],
  ["test:5000/Uppercase/lowercase:tag", "must be lowercase"],
  ["aa/asdf$$^/aa", "invalid reference format"],
  ["a^a", "invalid reference format"],
  ["foo___bar", "invalid reference format"],
  ["foo..bar", "invalid reference format"],
  ["-foo", "invalid reference format"],
  ["foo-", "invalid reference format"],
  ["foo/", "invalid reference format"],
  ["/foo", "invalid reference format"],
  ["foo//bar", "invalid reference format"],
  ["repo:-tag", "invalid reference format"],
  ["repo:.tag", "invalid reference format"],
  [`repo:${"a".repeat(129)}`, "invalid reference format"],
  ["[fe80::1%eth0]:5000/repo", "invalid reference format"],
  ["[2001:db8::1]", "invalid reference format"],
  ["test.com:port/repo", "invalid reference format"],
  [`${"a".repeat(256)}`, "must not be more than 255"],
  [H64, "64-byte hexadecimal"],
  ["foo bar", "invalid reference format"],
];

Deno.test("reference: valid references normalize like distribution/reference", () => {
  for (const [input, want] of VALID) {
    assertEquals(normalizeReference(input), want, input);
  }
});

Deno.test("reference: invalid references fail with the reason", () => {
  for (const [input, reason] of INVALID) {
    const e = assertThrows(() => parseReference(input), InvalidReferenceError, reason);
    assert(e.message.includes(JSON.stringify(input)), `message names the input: ${e.message}`);
  }
});

Deno.test("reference: parts", () => {
  assertEquals(parseReference("127.0.0.1:5000/cdrv/multi:1"), {
    domain: "127.0.0.1:5000",
    path: "cdrv/multi",
    tag: "1",
  });
  assertEquals(parseReference(`busybox:1@${D}`), { domain: "docker.io", path: "library/busybox", digest: D });
  assertEquals(familiarReference(parseReference("busybox")), "busybox:latest");
  assertEquals(familiarReference(parseReference("docker.io/library/a/b")), "library/a/b:latest");
  assertEquals(familiarReference(parseReference("quay.io/x/y:2")), "quay.io/x/y:2");
});

Deno.test("reference: digestProblem", () => {
  assertEquals(digestProblem(D), undefined);
  assertEquals(digestProblem(`sha384:${"0".repeat(96)}`), undefined);
  assert(digestProblem("sha256") !== undefined);
  assert(digestProblem(`sha256:${"0".repeat(63)}`)!.includes("length"));
});

// --- properties -------------------------------------------------------------------------------------
const alnum = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const sep = fc.constantFrom(".", "_", "__", "-", "--");
const component = fc.tuple(alnum, fc.array(fc.tuple(sep, alnum), { maxLength: 2 }))
  .map(([a, rest]) => a + rest.map(([s, b]) => s + b).join(""));
const path = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join("/"));
// A familiar name's first component must not look like a domain (no "."), unless it is the only one.
const firstComponent = fc.tuple(
  alnum,
  fc.array(fc.tuple(fc.constantFrom("_", "__", "-"), alnum), { maxLength: 2 }),
)
  .map(([a, rest]) => a + rest.map(([s, b]) => s + b).join(""));
const familiarPath = fc.tuple(firstComponent, fc.array(component, { maxLength: 3 }))
  .map(([f, rest]) => [f, ...rest].join("/"));
const host = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,6}[a-z0-9](\.[a-z]{2,5}){1,2}$/),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join(".")),
  fc.constant("localhost"),
  fc.constant("[::1]"),
);
const domain = fc.tuple(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`);

Deno.test("reference: property — formatted canonical references parse back to themselves", () => {
  fc.assert(
    fc.property(
      domain,
      path,
      fc.option(tag, { nil: undefined }),
      fc.option(digest, { nil: undefined }),
      (d, p, t, g) => {
        const s = formatReference({ domain: d, path: p, tag: t, digest: g });
        const r = parseReference(s);
        // docker.io one-component paths gain library/; otherwise the domain and path are kept.
        assertEquals(r.domain, d === "index.docker.io" ? "docker.io" : d);
        assertEquals(r.path, p);
        if (g) assertEquals(r, { domain: r.domain, path: p, digest: g });
        else assertEquals(r.tag, t ?? "latest");
        // normalization is idempotent
        assertEquals(normalizeReference(formatReference(r)), formatReference(r));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("reference: property — familiar names normalize to docker.io and back", () => {
  fc.assert(
    fc.property(familiarPath, fc.option(tag, { nil: undefined }), (p, t) => {
      const s = t === undefined ? p : `${p}:${t}`;
      const r = parseReference(s);
      assertEquals(r.domain, "docker.io");
      assertEquals(r.path, p.includes("/") ? p : `library/${p}`);
      assertEquals(familiarReference(r), `${p}:${t ?? "latest"}`);
    }),
    { numRuns: 500 },
  );
});

Deno.test("reference: property — arbitrary strings either parse to a valid canonical form or throw InvalidReferenceError", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      try {
        const r = parseReference(s);
        assertEquals(parseReference(formatReference(r)), r);
      } catch (e) {
        assert(e instanceof InvalidReferenceError, `unexpected ${e}`);
      }
    }),
    { numRuns: 2000 },
  );
});
