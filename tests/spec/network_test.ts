// Networking, proven from inside real containers: a task without Nomad isolation gets an empty network
// namespace of its own (only lo); host_network sees the host's interfaces; Nomad's group (and task)
// mode joins the namespace Nomad made (here: one this test makes with `ip netns`); /etc/hosts
// (hostname, address, extra_hosts) and /etc/resolv.conf (host's, Nomad's DNS, host_dns = false).
import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { host, hostFile, specTest } from "./suite.ts";

const NETNS = `cdrv-test-${crypto.randomUUID().slice(0, 8)}`;
const PROBE = [
  "echo ifaces=$(ls /sys/class/net | sort | tr '\\n' ' ')",
  "echo netns=$(readlink /proc/self/ns/net)",
  "echo hostname=$(hostname)",
  "echo '--- hosts'; cat /etc/hosts",
  "echo '--- resolv'; cat /etc/resolv.conf 2>&1",
  "echo '--- end'",
].join("\n");

interface Probe {
  ifaces: string[];
  netns: string;
  hostname: string;
  hosts: string[];
  resolv: string[];
}

function parse(out: string): Probe {
  const section = (name: string) => {
    const i = out.indexOf(`--- ${name}\n`);
    const rest = out.slice(i + name.length + 5);
    return rest.slice(0, rest.indexOf("--- ")).split("\n").filter(Boolean);
  };
  const line = (k: string) => (new RegExp(`^${k}=(.*)$`, "m").exec(out)?.[1] ?? "").trim();
  return {
    ifaces: line("ifaces").split(" ").filter(Boolean),
    netns: line("netns"),
    hostname: line("hostname"),
    hosts: section("hosts"),
    resolv: section("resolv"),
  };
}

const hostIfaces = async () => (await host("ls", "/sys/class/net")).split("\n").filter(Boolean).sort();
const nameservers = (lines: string[]) =>
  lines.filter((l) => l.startsWith("nameserver")).map((l) => l.split(/\s+/)[1]);

specTest("spec: networking, /etc/hosts and resolv.conf inside the container", async (s, t) => {
  const hostResolv = await hostFile("/etc/resolv.conf");
  const hostServers = nameservers(hostResolv.split("\n"));

  await t.step("no Nomad isolation: an empty netns of its own (lo only); hosts and resolv.conf", async () => {
    const r = await s.sh(PROBE, { config: { extra_hosts: ["db.local:10.1.2.3", "v6.local:[fd00::5]"] } });
    const p = parse(r.out);
    assertEquals(p.ifaces, ["lo"]);
    assert(p.netns !== (await host("readlink", "/proc/self/ns/net")).trim(), "a netns of its own");
    assertEquals(p.hostname, r.containerId);
    assert(p.hosts.includes("127.0.0.1\tlocalhost"), p.hosts.join("\n"));
    assertEquals(p.hosts.slice(-2), ["10.1.2.3\tdb.local", "fd00::5\tv6.local"]);
    // the host's resolvers, without loopback ones (unreachable from here); Docker's fallback if none remain
    const want = hostServers.filter((n) => !n.startsWith("127.") && n !== "::1");
    assertEquals(
      nameservers(p.resolv),
      want.length > 0 ? want : ["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"],
    );
  });

  await t.step(
    "host_network: the host's interfaces, hosts file (+ extra_hosts) and resolv.conf",
    async () => {
      const r = await s.sh(PROBE, { config: { host_network: true, extra_hosts: ["db.local:10.1.2.3"] } });
      const p = parse(r.out);
      assertEquals(p.ifaces, await hostIfaces());
      assertEquals(p.netns, (await host("readlink", "/proc/self/ns/net")).trim());
      const own = (await hostFile("/etc/hosts")).split("\n").filter(Boolean);
      assertEquals(p.hosts, [...own, "10.1.2.3\tdb.local"]);
      assertEquals(p.resolv, hostResolv.split("\n").filter(Boolean));
    },
  );

  await t.step(
    "group mode joins the netns Nomad made; its hostname/address in hosts; Nomad's DNS",
    async () => {
      const ip = (...a: string[]) => host("ip", ...a);
      await ip("netns", "add", NETNS);
      try {
        // a veth pair with both ends inside the new netns: nothing changes on the host's side
        await ip("-n", NETNS, "link", "add", "cdrv0", "type", "veth", "peer", "name", "cdrv1");
        await ip("-n", NETNS, "addr", "add", "10.99.0.2/24", "dev", "cdrv0");
        await ip("-n", NETNS, "link", "set", "cdrv0", "up");
        const inode = (await host("stat", "-L", "-c", "%i", `/var/run/netns/${NETNS}`)).trim();
        const path = `/var/run/netns/${NETNS}`;
        const r = await s.sh(`${PROBE}\nip -4 addr show cdrv0 | grep -o 'inet [0-9./]*'`, {
          network: { mode: 1, path, hostname: "grp-host", address: "10.99.0.2" },
          dns: { servers: ["10.99.0.53"], searches: ["svc.local"], options: ["ndots:2"] },
        });
        const p = parse(r.out);
        assertEquals(p.netns, `net:[${inode}]`);
        assertEquals(p.ifaces, ["cdrv0", "cdrv1", "lo"]);
        assertMatch(r.out, /^inet 10\.99\.0\.2\/24$/m);
        assertEquals(p.hostname, "grp-host");
        assert(p.hosts.includes("10.99.0.2\tgrp-host"), p.hosts.join("\n"));
        assertEquals(p.resolv, ["search svc.local", "nameserver 10.99.0.53", "options ndots:2"]);
        // task mode joins the path the same way
        const tm = parse((await s.sh(PROBE, { network: { mode: 2, path } })).out);
        assertEquals(tm.netns, `net:[${inode}]`);
        // ... and host_network cannot be combined with it
        const msg = await s.refused({ config: { host_network: true }, network: { mode: 1, path } });
        assertMatch(
          msg,
          /task config "host_network": true cannot be combined with the group's network namespace/,
        );
      } finally {
        await ip("netns", "del", NETNS);
      }
    },
  );

  await t.step("host_dns = false keeps the image's resolv.conf (the test image has none)", async () => {
    const p = parse((await s.sh(PROBE, { config: { host_dns: false } })).out);
    assertMatch(p.resolv.join("\n"), /No such file or directory/);
  });
});
