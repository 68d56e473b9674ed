/**
 * Linux capability names, Docker's default set and Docker's cap_add/cap_drop rules. Data and pure
 * functions only; the SpecOpt that writes them into the spec is opts/capabilities.ts.
 *
 * @module
 */

/** Every capability the Linux kernel knows, indexed by its number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const ALL_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** Docker's default capability set (moby oci/caps), which containerd's default spec also uses. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/**
 * Canonical form of a capability name: `CAP_` prefix, upper case; `ALL` stays `ALL`. Undefined when the
 * name is not a Linux capability.
 *
 * @example
 * ```ts
 * normalizeCapability("net_admin"); // "CAP_NET_ADMIN"
 * normalizeCapability("all"); // "ALL"
 * normalizeCapability("CAP_FLY"); // undefined
 * ```
 */
export function normalizeCapability(name: string): string | undefined {
  const up = name.trim().toUpperCase();
  if (up === "ALL" || up === "CAP_ALL") return "ALL";
  const full = up.startsWith("CAP_") ? up : `CAP_${up}`;
  return ALL_CAPABILITIES.includes(full) ? full : undefined;
}

/**
 * The capabilities a container can get on this host: those the kernel has (cap_last_cap from
 * /proc/sys/kernel/cap_last_cap; all known ones when the driver did not tell) that the runtime can grant
 * (`grantable`, when known: runc cannot give a capability its own process lacks).
 *
 * @example
 * ```ts
 * hostCapabilities(37).length; // 38
 * ```
 */
export function hostCapabilities(lastCap?: number, grantable?: readonly string[]): string[] {
  const n = lastCap === undefined ? ALL_CAPABILITIES.length : Math.min(lastCap + 1, ALL_CAPABILITIES.length);
  const known = ALL_CAPABILITIES.slice(0, n);
  return grantable === undefined ? known : known.filter((c) => grantable.includes(c));
}

/**
 * Capability names of a `/proc/<pid>/status` mask (the hex of CapEff, CapBnd...); undefined when `hex` is
 * not one.
 *
 * @example
 * ```ts
 * capabilitiesFromMask("00000000a80425fb"); // Docker's default set
 * capabilitiesFromMask("000001fffeffffff")?.includes("CAP_SYS_RESOURCE"); // false
 * ```
 */
export function capabilitiesFromMask(hex: string): string[] | undefined {
  const t = hex.trim();
  if (!/^[0-9a-fA-F]{1,16}$/.test(t)) return undefined;
  const bits = BigInt(`0x${t}`);
  return ALL_CAPABILITIES.filter((_, i) => ((bits >> BigInt(i)) & 1n) === 1n);
}

/**
 * Docker's rules for the final capability set (moby's TweakCapabilities), on canonical names:
 * - privileged: all capabilities;
 * - cap_add has ALL: all capabilities except those in cap_drop;
 * - cap_drop has ALL: exactly cap_add;
 * - otherwise: the defaults minus cap_drop, plus cap_add (a name in both lists is kept).
 *
 * @example
 * ```ts
 * tweakCapabilities(["CAP_CHOWN", "CAP_KILL"], ["CAP_NET_ADMIN"], ["CAP_KILL"], false, ["CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN"]);
 * // ["CAP_CHOWN", "CAP_NET_ADMIN"]
 * ```
 */
export function tweakCapabilities(
  defaults: readonly string[],
  add: readonly string[],
  drop: readonly string[],
  privileged: boolean,
  all: readonly string[] = ALL_CAPABILITIES,
): string[] {
  let caps: string[];
  if (privileged) caps = [...all];
  else if (add.includes("ALL")) caps = all.filter((c) => !drop.includes(c));
  else if (drop.includes("ALL")) caps = [...add];
  else caps = [...defaults.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)].filter((c) => c !== "ALL" && all.includes(c));
}
