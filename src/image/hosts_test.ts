import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import { apiBase, defaultHost, HostsConfigError, hostsFromToml, isLoopback, resolveHosts } from "./hosts.ts";
import { parseToml, TomlError } from "./toml.ts";

Deno.test("toml: the hosts.toml subset", () => {
  const doc = parseToml(`# comment
server = "https://registry-1.docker.io"  # trailing comment
capabilities = [
  "pull",
  "resolve", # inside an array
]
skip_verify = false
n = 1_000
f = 1.5
lit = 'C:\\path'
esc = "tab\\there \\u00e9"
multi = """
line1
line2"""
inline = { a = 1, b.c = "x" }

[host."http://127.0.0.1:5000"]
  capabilities = ["pull"]
  ca = ["a.crt", "/abs/b.crt"]
  client = [["c.crt", "c.key"]]
  [host."http://127.0.0.1:5000".header]
    x-one = "1"
    x-two = ["a", "b"]

[host.'https://mirror.example/base']
  override_path = true
`);
  assertEquals(doc.server, "https://registry-1.docker.io");
  assertEquals(doc.capabilities, ["pull", "resolve"]);
  assertEquals(doc.skip_verify, false);
  assertEquals(doc.n, 1000);
  assertEquals(doc.f, 1.5);
  assertEquals(doc.lit, "C:\\path");
  assertEquals(doc.esc, "tab\there é");
  assertEquals(doc.multi, "line1\nline2");
  assertEquals(doc.inline, { a: 1, b: { c: "x" } });
  const hosts = doc.host as Record<string, Record<string, unknown>>;
  assertEquals(Object.keys(hosts), ["http://127.0.0.1:5000", "https://mirror.example/base"]);
  assertEquals(hosts["http://127.0.0.1:5000"].header, { "x-one": "1", "x-two": ["a", "b"] });
});

Deno.test("toml: errors name the line", () => {
  for (
    const [text, line] of [
      ['a = "unterminated', 1],
      ["a = 1\nb = bare", 2],
      ["a = 1\na = 2", 2],
      ["[[arr]]", 1],
      ["a = [1, 2", 1],
      ["a = 1 b = 2", 1],
      ['\n\nx = "\\q"', 3],
    ] as [string, number][]
  ) {
    const e = assertThrows(() => parseToml(text), TomlError);
    assert(e.message.startsWith(`line ${line}:`), `${JSON.stringify(text)} → ${e.message}`);
  }
});

Deno.test("toml: property — string values round-trip through basic-string escaping", () => {
  fc.assert(
    fc.property(fc.string(), fc.string({ minLength: 1 }), (v, k) => {
      const key = JSON.stringify(k);
      const doc = parseToml(`${key} = ${JSON.stringify(v).replace(/\\u([0-9a-f]{4})/g, "\\u$1")}\n`);
      assertEquals(doc[k], v);
    }),
    { numRuns: 500 },
  );
});

Deno.test("hosts: mirrors in file order, then the server; defaults filled in", () => {
  const hosts = hostsFromToml(
    "docker.io",
    `server = "https://registry-1.docker.io"
[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
[host."https://mirror.example:8443/v2/proxy"]
  ca = "ca.crt"
  skip_verify = true
  [host."https://mirror.example:8443/v2/proxy".header]
    authorization-extra = "x"
[host."mirror2.example"]
  capabilities = ["pull"]
  override_path = true
`,
    "/h/docker.io/hosts.toml",
    "/h/docker.io",
  );
  assertEquals(hosts.map(apiBase), [
    "http://127.0.0.1:5000/v2",
    "https://mirror.example:8443/v2/proxy/v2",
    "https://mirror2.example",
    "https://registry-1.docker.io/v2",
  ]);
  assertEquals(hosts[0].capabilities, { pull: true, resolve: true, push: false });
  assertEquals(hosts[1].capabilities, { pull: true, resolve: true, push: true });
  assertEquals(hosts[1].ca, ["/h/docker.io/ca.crt"]);
  assertEquals(hosts[1].skipVerify, true);
  assertEquals(hosts[1].headers, { "authorization-extra": ["x"] });
  assertEquals(hosts[2].capabilities, { pull: true, resolve: false, push: false });
  assert(hosts.every((h) => h.registry === "docker.io"));
});

Deno.test("hosts: top-level keys belong to the server; no server means the default upstream", () => {
  const tls = hostsFromToml("127.0.0.1:5002", `server = "https://127.0.0.1:5002"\nca = "/ca.crt"\n`);
  assertEquals(tls.length, 1);
  assertEquals([tls[0].scheme, tls[0].host, tls[0].ca], ["https", "127.0.0.1:5002", ["/ca.crt"]]);
  const noServer = hostsFromToml("127.0.0.1:5000", `[host."http://127.0.0.1:6000"]\n`);
  assertEquals(noServer.map(apiBase), ["http://127.0.0.1:6000/v2", "http://127.0.0.1:5000/v2"]);
  assertEquals(hostsFromToml("example.com", "").map(apiBase), ["https://example.com/v2"]);
});

Deno.test("hosts: bad files give errors naming the file", () => {
  for (
    const text of [
      `server = 5`,
      `[host."http://x"]\ncapabilities = ["pull", "fly"]`,
      `[host."http://x"]\nskip_verify = "yes"`,
      `[host."http://x"]\nheader = "x"`,
      `server = "unterminated`,
    ]
  ) {
    const e = assertThrows(() => hostsFromToml("r", text, "/dir/r/hosts.toml"), HostsConfigError);
    assert(e.message.includes("/dir/r/hosts.toml"), e.message);
  }
});

Deno.test("hosts: defaults — docker.io, loopback means plain HTTP, others HTTPS", () => {
  assertEquals(apiBase(defaultHost("docker.io")), "https://registry-1.docker.io/v2");
  assertEquals(apiBase(defaultHost("127.0.0.1:5000")), "http://127.0.0.1:5000/v2");
  assertEquals(apiBase(defaultHost("localhost")), "http://localhost/v2");
  assertEquals(apiBase(defaultHost("[::1]:5000")), "http://[::1]:5000/v2");
  assertEquals(apiBase(defaultHost("127.0.0.1.example.com")), "https://127.0.0.1.example.com/v2");
  assertEquals(apiBase(defaultHost("quay.io")), "https://quay.io/v2");
  assert(isLoopback("127.1.2.3:80") && !isLoopback("10.0.0.1:5000") && !isLoopback("localhost.example"));
});

Deno.test("hosts: resolveHosts reads <dir>/<host>/hosts.toml, then _default, then certs.d-style *.crt", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/a.example:5000`);
    await Deno.writeTextFile(`${dir}/a.example:5000/hosts.toml`, `server = "http://a.example:5000"\n`);
    await Deno.mkdir(`${dir}/b.example`);
    await Deno.writeTextFile(`${dir}/b.example/ca.crt`, "pem");
    assertEquals((await resolveHosts(dir, "a.example:5000")).map(apiBase), ["http://a.example:5000/v2"]);
    assertEquals((await resolveHosts(dir, "b.example"))[0].ca, [`${dir}/b.example/ca.crt`]);
    assertEquals((await resolveHosts("", "c.example")).map(apiBase), ["https://c.example/v2"]);
    await Deno.mkdir(`${dir}/_default`);
    await Deno.writeTextFile(
      `${dir}/_default/hosts.toml`,
      `[host."http://127.0.0.1:9"]\ncapabilities = ["pull"]\n`,
    );
    assertEquals((await resolveHosts(dir, "c.example")).map(apiBase), [
      "http://127.0.0.1:9/v2",
      "https://c.example/v2",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
