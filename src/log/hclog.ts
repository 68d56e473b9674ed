/**
 * hclog-compatible JSON logging on stderr, the format go-plugin parses and Nomad re-levels.
 *
 * Every line is `{"@level","@message","@module","@timestamp", ...fields}`; `@level` and `@message` are
 * always strings (go-plugin panics otherwise) and `@timestamp` uses Go's
 * `2006-01-02T15:04:05.000000Z07:00` layout (microseconds), which `toISOString()` does not produce.
 *
 * Secrets (registry passwords, bearer tokens) registered with {@linkcode registerSecret} are replaced by
 * `[REDACTED]` in every message and field before a line is written, wherever they appear.
 *
 * @module
 */

/** hclog's level names, lowest first. */
export type Level = "trace" | "debug" | "info" | "warn" | "error";

const LEVEL_RANK: Record<Level, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** Extra key/value pairs of a log line. */
export type Fields = Record<string, unknown>;

/** Where lines go; stderr unless a test swaps it. */
export type Sink = (line: string) => void;

const encoder = new TextEncoder();
const stderrSink: Sink = (line) => {
  // writeSync keeps lines whole and ordered even when the process is about to exit.
  const bytes = encoder.encode(line + "\n");
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
};

const secrets = new Set<string>();

/**
 * Registers a secret so that no log line or redacted error ever shows it.
 * Short strings (under 4 characters) are ignored: redacting them would garble unrelated text.
 *
 * @example
 * ```ts
 * registerSecret("hunter22");
 * redact("login with hunter22 failed"); // "login with [REDACTED] failed"
 * ```
 */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 4) secrets.add(secret);
}

/**
 * Replaces every registered secret in `text` by `[REDACTED]`.
 *
 * @example
 * ```ts
 * redact("no secrets here"); // "no secrets here"
 * ```
 */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join("[REDACTED]");
  }
  return out;
}

/**
 * Formats a date the way Go's `2006-01-02T15:04:05.000000Z07:00` layout does, in UTC.
 *
 * @example
 * ```ts
 * goTimestamp(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))); // "2024-01-02T03:04:05.678000Z"
 * ```
 */
export function goTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function fieldValue(v: unknown): unknown {
  if (v instanceof Error) return redact(v.message);
  if (typeof v === "string") return redact(v);
  if (typeof v === "bigint") return v.toString();
  if (v === undefined) return null;
  if (typeof v === "object" && v !== null) {
    try {
      return JSON.parse(redact(JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x)));
    } catch {
      return redact(String(v));
    }
  }
  return v;
}

/** A named hclog logger; `named()` makes sub-loggers like hclog's `Named`. */
export class Logger {
  #sink: Sink;
  /**
   * @param module the `@module` value, e.g. `containerd-driver`
   * @param level the lowest level written
   * @param sink where lines go (stderr by default)
   * @param base fields added to every line
   */
  constructor(
    readonly module: string,
    public level: Level = "info",
    sink: Sink = stderrSink,
    private readonly base: Fields = {},
  ) {
    this.#sink = sink;
  }

  /** A logger whose module is `<this module>.<name>`, sharing the level and sink. */
  named(name: string, fields: Fields = {}): Logger {
    const child = new Logger(`${this.module}.${name}`, this.level, this.#sink, { ...this.base, ...fields });
    return child;
  }

  /** A logger that adds `fields` to every line. */
  with(fields: Fields): Logger {
    return new Logger(this.module, this.level, this.#sink, { ...this.base, ...fields });
  }

  /** True when lines of `level` are written. */
  enabled(level: Level): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.level];
  }

  /** Writes one line at `level`. */
  log(level: Level, message: string, fields: Fields = {}): void {
    if (!this.enabled(level)) return;
    const line: Record<string, unknown> = {
      "@level": level,
      "@message": redact(String(message)),
      "@module": this.module,
      "@timestamp": goTimestamp(new Date()),
    };
    for (const [k, v] of Object.entries({ ...this.base, ...fields })) {
      if (k.startsWith("@")) continue;
      line[k] = fieldValue(v);
    }
    this.#sink(JSON.stringify(line));
  }

  /** Writes a trace line. */
  trace(message: string, fields?: Fields): void {
    this.log("trace", message, fields);
  }
  /** Writes a debug line. */
  debug(message: string, fields?: Fields): void {
    this.log("debug", message, fields);
  }
  /** Writes an info line. */
  info(message: string, fields?: Fields): void {
    this.log("info", message, fields);
  }
  /** Writes a warn line. */
  warn(message: string, fields?: Fields): void {
    this.log("warn", message, fields);
  }
  /** Writes an error line. */
  error(message: string, fields?: Fields): void {
    this.log("error", message, fields);
  }
}

/** Parses a level name, accepting hclog's spellings; unknown names give "info". */
export function parseLevel(s: string | undefined): Level {
  const v = (s ?? "").toLowerCase();
  if (v === "warning") return "warn";
  return (v in LEVEL_RANK ? v : "info") as Level;
}
