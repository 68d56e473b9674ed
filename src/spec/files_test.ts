import { assertEquals } from "../../tests/harness/assert.ts";
import { exampleInput } from "./example.ts";
import { hostnameFile, hostsFile, resolvConf } from "./files.ts";

Deno.test("hostsFile: own netns gets localhost, its address and hostname, then extra_hosts", () => {
  const i = exampleInput({ extra_hosts: ["db.local:10.0.0.5", "v6:::1"] });
  assertEquals(
    hostsFile(i),
    [
      "127.0.0.1\tlocalhost",
      "::1\tlocalhost ip6-localhost ip6-loopback",
      "fe00::0\tip6-localnet",
      "ff00::0\tip6-mcastprefix",
      "ff02::1\tip6-allnodes",
      "ff02::2\tip6-allrouters",
      "172.26.64.10\tredis-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
      "10.0.0.5\tdb.local",
      "::1\tv6",
      "",
    ].join("\n"),
  );
});

Deno.test("hostsFile: host network keeps the host's file and appends extra_hosts", () => {
  const i = exampleInput({ host_network: true, extra_hosts: ["db:10.0.0.5"] });
  assertEquals(
    hostsFile(i, "127.0.0.1 localhost\n10.1.1.1 node1\n\n"),
    "127.0.0.1 localhost\n10.1.1.1 node1\n10.0.0.5\tdb\n",
  );
  assertEquals(hostsFile(i, ""), "10.0.0.5\tdb\n");
});

Deno.test("hostnameFile", () => {
  assertEquals(hostnameFile(exampleInput({ hostname: "cache" })), "cache\n");
});

Deno.test("resolvConf: Nomad's DNS wins; host_dns copies the host's, dropping loopback servers in an own netns", () => {
  const i = exampleInput();
  const host = "# generated\nnameserver 127.0.0.53\nsearch lan\noptions edns0\n";
  assertEquals(
    resolvConf(i, host),
    "# generated\nsearch lan\noptions edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n",
  );
  assertEquals(resolvConf(i, "nameserver 10.0.0.2\nnameserver 127.0.0.1\n"), "nameserver 10.0.0.2\n");
  assertEquals(resolvConf(exampleInput({ host_network: true }), host), host);
  assertEquals(resolvConf(exampleInput({ host_dns: false }), host), undefined);
  i.nomad.dns = { servers: ["1.1.1.1"], searches: ["svc"], options: ["ndots:2"] };
  assertEquals(resolvConf(i, host), "search svc\nnameserver 1.1.1.1\noptions ndots:2\n");
});
