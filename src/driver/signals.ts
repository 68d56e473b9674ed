/**
 * Signal names Nomad sends (kill_signal, `nomad alloc signal`) to Linux signal numbers.
 *
 * @module
 */

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};

/** Thrown for a signal name that is not a Linux signal. */
export class SignalError extends Error {
  override name = "ConfigError";
}

/**
 * Parses "SIGTERM", "TERM", "sigterm", "15" or "SIGRTMIN+3" into a signal number.
 *
 * @example
 * ```ts
 * signalNumber("SIGHUP"); // 1
 * signalNumber("SIGRTMIN+2"); // 36
 * ```
 */
export function signalNumber(name: string): number {
  const s = name.trim().toUpperCase().replace(/^SIG/, "");
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else if (s in SIGNALS) {
    return SIGNALS[s];
  } else {
    const rt = /^RTMIN(?:\+(\d+))?$/.exec(s) ?? /^RTMAX(?:-(\d+))?$/.exec(s);
    if (rt) {
      const off = Number(rt[1] ?? 0);
      const n = s.startsWith("RTMIN") ? 34 + off : 64 - off;
      if (n >= 34 && n <= 64) return n;
    }
  }
  throw new SignalError(
    `signal "${name}" is not a Linux signal; use a name such as "SIGTERM" or "SIGHUP", or 1 to 64`,
  );
}
