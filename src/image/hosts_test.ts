import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/harness/assert.ts";
import { apiBase, defaultHost, HostsConfigError, hostsFromToml, isLoopback, resolveHosts } from "./hosts.ts";

Deno.test("hosts: the TOML a hand-written hosts.toml may use (comments, multi-line, literal, dotted, inline)", () => {
  const hosts = hostsFromToml(
    "docker.io",
    `# comment
server = "https://registry-1.docker.io"  # trailing comment
capabilities = [
  "pull",
  "resolve", # inside an array
]
skip_verify = false

[host."http://127.0.0.1:5000"]
  capabilities = ['pull']
  ca = ["a.crt", '/abs/b.crt']
  client = [["c.crt", "c.key"]]
  [host."http://127.0.0.1:5000".header]
    x-one = "tab\\there \\u00e9"
    x-two = ["a", """
b"""]

[host.'https://mirror.example/base']
  override_path = true
  header = { x-three = "3" }
`,
    "/h/docker.io/hosts.toml",
    "/h/docker.io",
  );
  assertEquals(hosts.map(apiBase), [
    "http://127.0.0.1:5000/v2",
    "https://mirror.example/base",
    "https://registry-1.docker.io/v2",
  ]);
  assertEquals(hosts[0].ca, ["/h/docker.io/a.crt", "/abs/b.crt"]);
  assertEquals(hosts[0].client, [["/h/docker.io/c.crt", "/h/docker.io/c.key"]]);
  assertEquals(hosts[0].headers, { "x-one": ["tab\there é"], "x-two": ["a", "b"] });
  assertThrows(
    () => hostsFromToml("r", `[host."http://m"]\nheader = { x-four.not = "a table" }\n`),
    HostsConfigError,
    '"header.x-four" must be a string or a list of strings',
  );
  assertEquals(hosts[1].headers, { "x-three": ["3"] });
  assertEquals(hosts[2].capabilities, { pull: true, resolve: true, push: false });
});

Deno.test("hosts: malformed TOML gives an error naming the file, the line and the problem", () => {
  for (
    const [text, where] of [
      ['a = "unterminated', "line 1, column 5: unfinished string"],
      ["a = 1\nb = bare", 'line 2, column 5: invalid value in "b = bare"'],
      ["a = 1\na = 2", "line 2, column 1:"],
      ["a = [1, 2", "line 1, column 10:"],
      ["a = 1 b = 2", "line 1, column 7:"],
      ['\n\nx = "\\q"', "line 3, column 7: unrecognised escape sequence"],
    ] as [string, string][]
  ) {
    const e = assertThrows(() => hostsFromToml("r", text, "/dir/r/hosts.toml"), HostsConfigError);
    assert(e.message.startsWith(`registry hosts file /dir/r/hosts.toml: ${where}`), `${text} → ${e.message}`);
    assert(!e.message.includes("\n"), `one line: ${e.message}`);
  }
});

Deno.test("hosts: property — header values round-trip through basic-string escaping", () => {
  fc.assert(
    fc.property(fc.string(), fc.string({ minLength: 1 }), (v, k) => {
      const text = `[host."http://m"]\n[host."http://m".header]\n${JSON.stringify(k)} = ${
        JSON.stringify(v)
      }\n`;
      assertEquals(hostsFromToml("r", text)[0].headers, { [k]: [v] });
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
      `host = 1979-05-27`,
      `[[host]]\nca = "x"`,
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
