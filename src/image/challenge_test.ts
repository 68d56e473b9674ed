import fc from "fast-check";
import { assertEquals } from "../../tests/harness/assert.ts";
import { parseWwwAuthenticate } from "./challenge.ts";

Deno.test("WWW-Authenticate: registry challenges", () => {
  const cases: [string, ReturnType<typeof parseWwwAuthenticate>][] = [
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      [{
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/busybox:pull",
        },
      }],
    ],
    ['Basic realm="cdrv-registry"', [{ scheme: "basic", params: { realm: "cdrv-registry" } }]],
    ["basic realm=unquoted", [{ scheme: "basic", params: { realm: "unquoted" } }]],
    [
      'Basic realm="a", Bearer realm="https://t/x", service=reg',
      [{ scheme: "basic", params: { realm: "a" } }, {
        scheme: "bearer",
        params: { realm: "https://t/x", service: "reg" },
      }],
    ],
    [
      'Bearer realm="r",scope="repository:a/b:pull repository:c/d:pull",error="insufficient_scope"',
      [{
        scheme: "bearer",
        params: { realm: "r", scope: "repository:a/b:pull repository:c/d:pull", error: "insufficient_scope" },
      }],
    ],
    ['Bearer  realm = "sp aced" , Service="X"', [{
      scheme: "bearer",
      params: { realm: "sp aced", service: "X" },
    }]],
    ['Bearer realm="with \\"quote\\""', [{ scheme: "bearer", params: { realm: 'with "quote"' } }]],
    ["Negotiate abc==, Basic realm=x", [{ scheme: "negotiate", params: {} }, {
      scheme: "basic",
      params: { realm: "x" },
    }]],
    ["", []],
    ["Bearer", [{ scheme: "bearer", params: {} }]],
  ];
  for (const [header, want] of cases) assertEquals(parseWwwAuthenticate(header), want, header);
});

Deno.test("WWW-Authenticate: property — formatted challenges parse back; garbage never throws", () => {
  const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/);
  const value = fc.string({ maxLength: 20 }).filter((s) => !s.includes("\\"));
  fc.assert(
    fc.property(token, fc.dictionary(token, value, { maxKeys: 4 }), (scheme, params) => {
      const header = `${scheme} ` +
        Object.entries(params).map(([k, v]) => `${k}="${v.replace(/"/g, '\\"')}"`).join(", ");
      const lower = Object.fromEntries(Object.entries(params).map(([k, v]) => [k.toLowerCase(), v]));
      const parsed = parseWwwAuthenticate(header);
      assertEquals(parsed[0].scheme, scheme.toLowerCase());
      // keys compare case-insensitively: the last one of a case-folded pair wins
      const expected: Record<string, string> = {};
      for (const [k, v] of Object.entries(params)) expected[k.toLowerCase()] = v;
      assertEquals(parsed[0].params, Object.keys(lower).length ? expected : {});
    }),
    { numRuns: 500 },
  );
  fc.assert(fc.property(fc.string(), (s) => void parseWwwAuthenticate(s)), { numRuns: 2000 });
});
