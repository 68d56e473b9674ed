/**
 * A small TOML subset parser, enough for containerd's hosts.toml files (no dependency):
 * comments, `key = value` with bare / quoted / dotted keys, `[table]` headers with quoted parts
 * (`[host."https://mirror:5000".header]`), basic and literal strings (single-line and multi-line),
 * integers, floats, booleans, arrays (nested, multi-line, trailing comma) and inline tables.
 * Not supported (rejected with an error): arrays of tables (`[[x]]`) and date-times.
 *
 * Tables keep their keys in file order, which hosts.toml relies on (mirrors are tried in order).
 *
 * @module
 */

/** A TOML value. */
export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
/** A TOML table. */
export interface TomlTable {
  [key: string]: TomlValue;
}

/** A syntax error, with the 1-based line. */
export class TomlError extends Error {
  constructor(readonly line: number, msg: string) {
    super(`line ${line}: ${msg}`);
    this.name = "TomlError";
  }
}

/** Sets an own property, even for names like "__proto__" (plain assignment would change the prototype). */
function define(t: TomlTable, key: string, value: TomlValue): void {
  Object.defineProperty(t, key, { value, enumerable: true, writable: true, configurable: true });
}

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  get line(): number {
    let n = 1;
    for (let i = 0; i < this.pos && i < this.src.length; i++) if (this.src[i] === "\n") n++;
    return n;
  }
  fail(msg: string): never {
    throw new TomlError(this.line, msg);
  }
  peek(off = 0): string {
    return this.src[this.pos + off] ?? "";
  }
  eof(): boolean {
    return this.pos >= this.src.length;
  }
  /** Skips spaces and tabs (not newlines). */
  ws(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  comment(): void {
    if (this.peek() === "#") { while (!this.eof() && this.peek() !== "\n") this.pos++; }
  }
  /** Skips whitespace, newlines and comments. */
  blank(): void {
    for (;;) {
      this.ws();
      this.comment();
      if (this.peek() === "\n" || this.peek() === "\r") this.pos++;
      else return;
    }
  }
  endOfLine(): void {
    this.ws();
    this.comment();
    if (this.eof()) return;
    if (this.peek() === "\r") this.pos++;
    if (this.peek() !== "\n") this.fail(`expected the end of the line, found ${JSON.stringify(this.peek())}`);
    this.pos++;
  }

  key(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(this.src.slice(this.pos));
        if (!m) this.fail(`expected a key, found ${JSON.stringify(c || "end of file")}`);
        parts.push(m[0]);
        this.pos += m[0].length;
      }
      this.ws();
      if (this.peek() !== ".") return parts;
      this.pos++;
    }
  }

  basicString(): string {
    if (this.src.startsWith('"""', this.pos)) return this.multiBasic();
    this.pos++;
    let out = "";
    for (;;) {
      const c = this.peek();
      if (c === "" || c === "\n") this.fail("unterminated string");
      this.pos++;
      if (c === '"') return out;
      if (c === "\\") out += this.escape();
      else out += c;
    }
  }
  multiBasic(): string {
    this.pos += 3;
    if (this.peek() === "\n") this.pos++;
    else if (this.peek() === "\r" && this.peek(1) === "\n") this.pos += 2;
    let out = "";
    for (;;) {
      if (this.eof()) this.fail("unterminated multi-line string");
      if (this.src.startsWith('"""', this.pos)) {
        this.pos += 3;
        return out;
      }
      const c = this.peek();
      this.pos++;
      if (c === "\\") {
        if (/^[ \t]*\r?\n/.test(this.src.slice(this.pos))) {
          while (/[ \t\r\n]/.test(this.peek())) this.pos++;
        } else out += this.escape();
      } else out += c;
    }
  }
  escape(): string {
    const c = this.peek();
    this.pos++;
    const simple: Record<string, string> = {
      b: "\b",
      t: "\t",
      n: "\n",
      f: "\f",
      r: "\r",
      '"': '"',
      "\\": "\\",
    };
    if (c in simple) return simple[c];
    if (c === "u" || c === "U") {
      const n = c === "u" ? 4 : 8;
      const hex = this.src.slice(this.pos, this.pos + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) this.fail(`bad unicode escape \\${c}${hex}`);
      this.pos += n;
      return String.fromCodePoint(parseInt(hex, 16));
    }
    return this.fail(`bad escape \\${c}`);
  }
  literalString(): string {
    if (this.src.startsWith("'''", this.pos)) {
      this.pos += 3;
      if (this.peek() === "\n") this.pos++;
      const end = this.src.indexOf("'''", this.pos);
      if (end < 0) this.fail("unterminated multi-line literal string");
      const s = this.src.slice(this.pos, end);
      this.pos = end + 3;
      return s;
    }
    this.pos++;
    const end = this.src.indexOf("'", this.pos);
    const nl = this.src.indexOf("\n", this.pos);
    if (end < 0 || (nl >= 0 && nl < end)) this.fail("unterminated literal string");
    const s = this.src.slice(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  value(): TomlValue {
    this.ws();
    const c = this.peek();
    if (c === '"') return this.basicString();
    if (c === "'") return this.literalString();
    if (c === "[") return this.array();
    if (c === "{") return this.inlineTable();
    const m = /^[^\s,\]}#]+/.exec(this.src.slice(this.pos));
    if (!m) return this.fail(`expected a value, found ${JSON.stringify(c || "end of file")}`);
    const tok = m[0];
    this.pos += tok.length;
    if (tok === "true") return true;
    if (tok === "false") return false;
    const clean = tok.replace(/_/g, "");
    if (/^[+-]?(0|[1-9][0-9]*)$/.test(clean)) return Number(clean);
    if (/^0x[0-9a-fA-F]+$/.test(clean)) return parseInt(clean.slice(2), 16);
    if (/^0o[0-7]+$/.test(clean)) return parseInt(clean.slice(2), 8);
    if (/^0b[01]+$/.test(clean)) return parseInt(clean.slice(2), 2);
    if (/^[+-]?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(clean)) return Number(clean);
    if (/^[+-]?(inf|nan)$/.test(tok)) return Number(tok.replace("inf", "Infinity").replace("nan", "NaN"));
    return this.fail(`unsupported value ${JSON.stringify(tok)} (strings need quotes)`);
  }
  array(): TomlValue[] {
    this.pos++;
    const out: TomlValue[] = [];
    for (;;) {
      this.blank();
      if (this.peek() === "]") {
        this.pos++;
        return out;
      }
      out.push(this.value());
      this.blank();
      if (this.peek() === ",") this.pos++;
      else if (this.peek() !== "]") {
        this.fail(`expected "," or "]" in an array, found ${JSON.stringify(this.peek())}`);
      }
    }
  }
  inlineTable(): TomlTable {
    this.pos++;
    const t: TomlTable = {};
    this.ws();
    if (this.peek() === "}") {
      this.pos++;
      return t;
    }
    for (;;) {
      const k = this.key();
      if (this.peek() !== "=") this.fail('expected "=" after a key');
      this.pos++;
      this.assign(t, k, this.value());
      this.ws();
      if (this.peek() === ",") this.pos++;
      else if (this.peek() === "}") {
        this.pos++;
        return t;
      } else this.fail(`expected "," or "}" in an inline table`);
    }
  }

  table(root: TomlTable, path: string[]): TomlTable {
    let t = root;
    for (const p of path) {
      const v = Object.hasOwn(t, p) ? t[p] : undefined;
      if (v === undefined) {
        const child: TomlTable = {};
        define(t, p, child);
        t = child;
      } else if (typeof v === "object" && !Array.isArray(v)) t = v;
      else this.fail(`key ${JSON.stringify(p)} is already a value, not a table`);
    }
    return t;
  }
  assign(t: TomlTable, key: string[], v: TomlValue): void {
    const parent = this.table(t, key.slice(0, -1));
    const last = key[key.length - 1];
    if (Object.hasOwn(parent, last)) this.fail(`duplicate key ${JSON.stringify(key.join("."))}`);
    define(parent, last, v);
  }

  document(): TomlTable {
    const root: TomlTable = {};
    let current = root;
    for (;;) {
      this.blank();
      if (this.eof()) return root;
      if (this.peek() === "[") {
        if (this.peek(1) === "[") this.fail("arrays of tables ([[...]]) are not supported");
        this.pos++;
        const path = this.key();
        if (this.peek() !== "]") this.fail('expected "]" after a table name');
        this.pos++;
        current = this.table(root, path);
        this.endOfLine();
        continue;
      }
      const k = this.key();
      if (this.peek() !== "=") this.fail(`expected "=" after key ${JSON.stringify(k.join("."))}`);
      this.pos++;
      this.assign(current, k, this.value());
      this.endOfLine();
    }
  }
}

/**
 * Parses a TOML document (the subset described in the module doc). Throws {@linkcode TomlError}.
 *
 * @example
 * ```ts
 * parseToml('server = "https://r.example"\n[host."http://127.0.0.1:5000"]\ncapabilities = ["pull"]\n');
 * // { server: "https://r.example", host: { "http://127.0.0.1:5000": { capabilities: ["pull"] } } }
 * ```
 */
export function parseToml(text: string): TomlTable {
  return new Parser(text).document();
}
