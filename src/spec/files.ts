/**
 * Contents of the host files the driver writes and mounts (paths come back in SpecInput.files): /etc/hosts,
 * /etc/resolv.conf and /etc/hostname. Pure: the driver passes the host's own files' text and does the I/O.
 *
 * @module
 */
import type { SpecInput } from "./input.ts";
import { containerHostname } from "./opts/hostname.ts";

const DEFAULT_HOSTS = [
  "127.0.0.1\tlocalhost",
  "::1\tlocalhost ip6-localhost ip6-loopback",
  "fe00::0\tip6-localnet",
  "ff00::0\tip6-mcastprefix",
  "ff02::1\tip6-allnodes",
  "ff02::2\tip6-allrouters",
];

/** Whether the task shares the host's network namespace. */
export function usesHostNetwork(input: Pick<SpecInput, "task" | "nomad">): boolean {
  return input.task.hostNetwork || input.nomad.network.mode === "host";
}

/**
 * /etc/hosts: on the host network the host's own file (as the Roblox driver mounted it) plus
 * `extra_hosts`; otherwise localhost entries, the task's address and hostname (when Nomad gave an
 * address), and `extra_hosts`.
 *
 * @example
 * ```ts
 * hostsFile(input).split("\n").at(-2); // "10.0.0.5\tdb.local"
 * ```
 */
export function hostsFile(input: Pick<SpecInput, "id" | "task" | "nomad">, hostHosts = ""): string {
  const lines: string[] = [];
  if (usesHostNetwork(input)) {
    const own = hostHosts.replace(/\n+$/, "");
    if (own !== "") lines.push(...own.split("\n"));
  } else {
    lines.push(...DEFAULT_HOSTS);
    const addr = input.nomad.network.address;
    if (addr) lines.push(`${addr}\t${containerHostname(input)}`);
  }
  for (const e of input.task.extraHosts) lines.push(`${e.ip}\t${e.host}`);
  return lines.join("\n") + "\n";
}

/** /etc/hostname: the container's hostname and a newline. */
export function hostnameFile(input: Pick<SpecInput, "id" | "task" | "nomad">): string {
  return containerHostname(input) + "\n";
}

/** Docker's fallback nameservers when the host has only local ones and the task has its own netns. */
export const FALLBACK_NAMESERVERS: readonly string[] = [
  "8.8.8.8",
  "8.8.4.4",
  "2001:4860:4860::8888",
  "2001:4860:4860::8844",
];

function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/**
 * /etc/resolv.conf, or undefined when the image's own file is kept (no Nomad DNS and `host_dns = false`).
 * Nomad's DNS block (servers/searches/options) wins; otherwise the host's file (`host_dns`, default
 * true). In the task's own network namespace, loopback nameservers (systemd-resolved's 127.0.0.53) cannot
 * be reached: they are dropped and, if none remain, Docker's fallbacks are used.
 *
 * @example
 * ```ts
 * resolvConf(input, "nameserver 127.0.0.53\nsearch lan\n"); // "search lan\nnameserver 8.8.8.8\n..."
 * ```
 */
export function resolvConf(
  input: Pick<SpecInput, "task" | "nomad">,
  hostResolvConf: string,
): string | undefined {
  const dns = input.nomad.dns;
  if (dns && (dns.servers.length > 0 || dns.searches.length > 0 || dns.options.length > 0)) {
    const lines: string[] = [];
    if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(" ")}`);
    for (const s of dns.servers) lines.push(`nameserver ${s}`);
    if (dns.options.length > 0) lines.push(`options ${dns.options.join(" ")}`);
    return lines.join("\n") + "\n";
  }
  if (!input.task.hostDns) return undefined;
  if (usesHostNetwork(input)) {
    return hostResolvConf.endsWith("\n") || hostResolvConf === "" ? hostResolvConf : hostResolvConf + "\n";
  }
  const lines = hostResolvConf.split("\n").filter((l) => l.trim() !== "");
  const isServer = (l: string) => /^\s*nameserver\s+/.test(l);
  const kept = lines.filter((l) => !(isServer(l) && isLoopback(l.trim().split(/\s+/)[1] ?? "")));
  if (!kept.some(isServer)) kept.push(...FALLBACK_NAMESERVERS.map((s) => `nameserver ${s}`));
  return kept.join("\n") + "\n";
}
