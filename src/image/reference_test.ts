import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import {
  familiarReference,
  formatReference,
  InvalidReferenceError,
  normalizeReference,
  parseReference,
} from "./reference.ts";
import { D256 as D, INVALID_REFS, VALID_REFS } from "../../tests/fixtures/image_refs.ts";

Deno.test("reference: valid references normalize like distribution/reference", () => {
  for (const [input, want] of VALID_REFS) {
    assertEquals(normalizeReference(input), want, input);
  }
});

Deno.test("reference: invalid references fail with the reason", () => {
  for (const [input, reason] of INVALID_REFS) {
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
