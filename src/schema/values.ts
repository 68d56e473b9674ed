/**
 * Reading decoded cty values into typed options, with errors that name the option, the value and what
 * is allowed. Pure: used by the plugin config, the task config and the browser playground.
 *
 * @module
 */
/**
 * A cty type: a primitive, a collection (list, set, map) of one element type, a structural type
 * (object, tuple), or `"dynamic"` (a value that carries its own type on the wire).
 *
 * @example
 * ```ts
 * import type { CtyType } from "./values.ts";
 *
 * const mount: CtyType = { object: { source: "string", target: "string", readonly: "bool" } };
 * const task: CtyType = { object: { image: "string", mounts: { list: mount } }, optional: ["mounts"] };
 * ```
 */
export type CtyType =
  | "string"
  | "number"
  | "bool"
  | "dynamic"
  | { list: CtyType }
  | { set: CtyType }
  | { map: CtyType }
  | { object: Record<string, CtyType>; optional?: string[] }
  | { tuple: CtyType[] };

/** A value not yet known; cty.ts uses the same registered symbol. */
export const UNKNOWN: unique symbol = Symbol.for("cty.unknown") as typeof UNKNOWN;

/** A decoded config value: what cty msgpack or JSON gives. */
export type CtyValue = null | typeof UNKNOWN | string | number | bigint | boolean | CtyValue[] | {
  [k: string]: CtyValue;
};

/** A bad option value: the message names the option, the value and what is allowed. */
export class ConfigError extends Error {
  /**
   * @param scope `plugin config` or `task config`
   * @param option dotted option path, e.g. `gc.image_delay`
   * @param problem what is wrong and what is allowed
   */
  constructor(readonly scope: string, readonly option: string, readonly problem: string) {
    super(`${scope} "${option}": ${problem}`);
    this.name = "ConfigError";
  }
}

/** Shows a value in an error message: quoted strings, at most 60 characters. */
export function show(v: unknown): string {
  let s: string;
  if (typeof v === "string") s = JSON.stringify(v);
  else if (typeof v === "bigint") s = v.toString();
  else if (v === UNKNOWN) s = "(unknown)";
  else {
    try {
      s = JSON.stringify(v, (_k, x) => typeof x === "bigint" ? x.toString() : x) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration ("1s", "500ms", "1m30s", "2h") into milliseconds; undefined when malformed.
 *
 * @example
 * ```ts
 * parseDuration("1m30s"); // 90000
 * parseDuration("soon"); // undefined
 * ```
 */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (t === "0") return 0;
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  if (t.length === 0) return undefined;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = re.lastIndex;
  }
  return total;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses a size as Docker does ("128M", "1g", "512k", "1024") into bytes (binary units);
 * undefined when malformed.
 *
 * @example
 * ```ts
 * parseSize("64m"); // 67108864
 * parseSize("12Q"); // undefined
 * ```
 */
export function parseSize(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.round(Number(m[1]) * unit);
}

/**
 * A cursor over one decoded object (a config block), reading typed options by name.
 * Absent and null values give the fallback; wrong types give a {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * const r = new Reader("plugin config", { enabled: true });
 * r.bool("enabled", false); // true
 * ```
 */
export class Reader {
  constructor(
    readonly scope: string,
    readonly value: CtyValue,
    readonly prefix = "",
  ) {
    if (value === UNKNOWN) throw new ConfigError(scope, prefix || "(block)", "is not known yet");
  }

  /** Builds a ConfigError for option `name` of this block. */
  error(name: string, problem: string): ConfigError {
    return new ConfigError(this.scope, this.prefix + name, problem);
  }

  /** The raw value of `name`, null when absent. */
  raw(name: string): CtyValue {
    const v = this.value;
    if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
    const x = (v as Record<string, CtyValue>)[name];
    if (x === UNKNOWN) throw this.error(name, "is not known yet (an unresolved variable?)");
    return x === undefined ? null : x;
  }

  /** A string option. */
  string(name: string, fallback: string): string;
  /** A string option, undefined when absent. */
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const v = this.raw(name);
    if (v === null) return fallback;
    if (typeof v !== "string") throw this.error(name, `${show(v)} is not a string`);
    return v;
  }

  /** A required, non-empty string option. */
  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === "") throw this.error(name, "is required and must not be empty");
    return v;
  }

  /** A bool option; also accepts "true"/"false" strings (Nomad may convert). */
  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === null) return fallback;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "false") return v === "true";
    throw this.error(name, `${show(v)} is not a bool; use true or false`);
  }

  /** A number option; strings holding a number are accepted. */
  number(name: string): number | undefined {
    const v = this.raw(name);
    if (v === null) return undefined;
    const n = typeof v === "bigint" ? Number(v) : typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n)) throw this.error(name, `${show(v)} is not a number`);
    return n;
  }

  /** An integer option within [min, max]. */
  integer(name: string, min: number, max: number): number | undefined {
    const n = this.number(name);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw this.error(name, `${show(this.raw(name))} is not a whole number from ${min} to ${max}`);
    }
    return n;
  }

  /** A duration option in milliseconds. */
  duration(name: string, fallback: string, opts: { minMs?: number } = {}): number {
    const s = this.string(name) ?? fallback;
    const ms = parseDuration(s);
    if (ms === undefined) {
      throw this.error(
        name,
        `${show(s)} is not a duration; use a number with a unit such as "1s", "500ms" or "5m"`,
      );
    }
    if (opts.minMs !== undefined && ms < opts.minMs) {
      throw this.error(name, `${show(s)} is too short; the least allowed is ${opts.minMs}ms`);
    }
    return ms;
  }

  /** A size option in bytes, undefined when absent. */
  size(name: string): number | undefined {
    const v = this.raw(name);
    if (v === null || v === "") return undefined;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
    const bytes = typeof v === "string" ? parseSize(v) : undefined;
    if (bytes === undefined) {
      throw this.error(name, `${show(v)} is not a size; use a number with a unit such as "128M" or "1G"`);
    }
    return bytes;
  }

  /** A string option restricted to `allowed`. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T | undefined {
    const v = this.string(name);
    if (v === undefined || v === "") return fallback;
    if (!(allowed as readonly string[]).includes(v)) {
      throw this.error(
        name,
        `${show(v)} is not allowed; use one of ${allowed.map((a) => `"${a}"`).join(", ")}`,
      );
    }
    return v as T;
  }

  /** A list of strings, [] when absent. */
  strings(name: string): string[] {
    const v = this.raw(name);
    if (v === null) return [];
    if (!Array.isArray(v)) throw this.error(name, `${show(v)} is not a list of strings`);
    return v.map((x, i) => {
      if (typeof x !== "string") throw this.error(`${name}[${i}]`, `${show(x)} is not a string`);
      return x;
    });
  }

  /**
   * A string map. Accepts a map, or Docker's `list(map(string))` form (a list of maps, merged in order),
   * which is what `sysctl = { ... }` becomes in Nomad.
   */
  stringMap(name: string): Record<string, string> {
    const v = this.raw(name);
    if (v === null) return {};
    const parts = Array.isArray(v) ? v : [v];
    const out: Record<string, string> = {};
    parts.forEach((p, i) => {
      if (p === null) return;
      if (typeof p !== "object" || Array.isArray(p)) {
        throw this.error(Array.isArray(v) ? `${name}[${i}]` : name, `${show(p)} is not a map of strings`);
      }
      for (const [k, x] of Object.entries(p)) {
        if (typeof x !== "string" && typeof x !== "number" && typeof x !== "boolean") {
          throw this.error(`${name}.${k}`, `${show(x)} is not a string`);
        }
        out[k] = String(x);
      }
    });
    return out;
  }

  /** A nested block's reader (an empty one when absent). */
  block(name: string): Reader {
    const v = this.raw(name);
    return new Reader(this.scope, Array.isArray(v) ? (v[0] ?? null) : v, `${this.prefix}${name}.`);
  }

  /** Readers for each block of a block list. */
  blocks(name: string): Reader[] {
    const v = this.raw(name);
    if (v === null) return [];
    if (!Array.isArray(v)) throw this.error(name, `${show(v)} is not a list of blocks`);
    return v.map((b, i) => new Reader(this.scope, b, `${this.prefix}${name}[${i}].`));
  }
}
