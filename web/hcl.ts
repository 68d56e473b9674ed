/**
 * A small HCL subset for task `config {}` blocks in the playground: attributes, strings (with escapes and
 * heredocs; `${...}` is kept as text), numbers, bools, null, lists, objects/maps (`=` or `:`), nested
 * blocks (labels become nested keys) and repeated blocks (→ lists), with `#`, `//` and `/* *\/` comments.
 * Not a full HCL: no expressions, functions or for-loops — what a config block holds.
 *
 * Pure and browser compatible.
 *
 * @module
 */
import type { CtyValue } from "../src/schema/values.ts";
import type { SpecNode } from "../src/schema/hclspec.ts";

/** A syntax error with its 1-based line and column. */
export class HclError extends Error {
  constructor(readonly line: number, readonly column: number, problem: string) {
    super(`line ${line}, column ${column}: ${problem}`);
    this.name = "HclError";
  }
}

type Obj = { [k: string]: CtyValue };

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  fail(problem: string, at = this.pos): never {
    const before = this.src.slice(0, at);
    const line = before.split("\n").length;
    const column = at - before.lastIndexOf("\n");
    throw new HclError(line, column, problem);
  }

  /** Skips spaces, comments and (when `newlines`) line breaks. */
  skip(newlines: boolean): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === " " || c === "\t" || c === "\r" || (newlines && c === "\n")) this.pos++;
      else if (c === "#" || (c === "/" && s[this.pos + 1] === "/")) {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else if (c === "/" && s[this.pos + 1] === "*") {
        const end = s.indexOf("*/", this.pos + 2);
        if (end < 0) this.fail("unterminated /* comment");
        this.pos = end + 2;
      } else break;
    }
  }

  peek(): string {
    return this.src[this.pos] ?? "";
  }

  ident(): string | undefined {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.src.slice(this.pos, this.pos + 256));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  /** body := (attribute | block)*, until `end` ("}" or end of input). */
  body(end: string): Obj {
    const out: Obj = {};
    const blocks = new Map<string, CtyValue[]>();
    while (true) {
      this.skip(true);
      if (this.peek() === end || (end === "" && this.pos >= this.src.length)) break;
      if (this.pos >= this.src.length) this.fail(`missing "${end}"`);
      const at = this.pos;
      const name = this.peek() === '"' ? this.string() : this.ident();
      if (name === undefined) {
        this.fail(`expected an attribute or block name, found ${JSON.stringify(this.peek())}`);
      }
      this.skip(false);
      if (this.peek() === "=") {
        this.pos++;
        if (name in out || blocks.has(name)) this.fail(`${JSON.stringify(name)} is set twice`, at);
        out[name] = this.expr();
        this.endOfItem();
        continue;
      }
      // a block: labels, then { body }
      const labels: string[] = [];
      while (this.peek() === '"' || /[A-Za-z_]/.test(this.peek())) {
        labels.push(this.peek() === '"' ? this.string() : this.ident()!);
        this.skip(false);
      }
      if (this.peek() !== "{") this.fail(`expected "=" or "{" after ${JSON.stringify(name)}`);
      this.pos++;
      let value: CtyValue = this.body("}");
      this.pos++;
      for (let i = labels.length - 1; i >= 0; i--) value = { [labels[i]]: value };
      if (name in out) this.fail(`${JSON.stringify(name)} is both an attribute and a block`, at);
      const list = blocks.get(name) ?? [];
      list.push(value);
      blocks.set(name, list);
    }
    for (const [name, list] of blocks) out[name] = list.length === 1 ? list[0] : list;
    return out;
  }

  endOfItem(): void {
    this.skip(false);
    const c = this.peek();
    if (c === "\n" || c === ";" || c === ",") this.pos++;
    // HCL 1 style `a = 1 b = 2` on one line is accepted too
    else if (c !== "}" && c !== "" && c !== "#" && c !== "/" && c !== '"' && !/[A-Za-z_]/.test(c)) {
      this.fail(`unexpected ${JSON.stringify(c)}`);
    }
  }

  expr(): CtyValue {
    this.skip(false);
    const c = this.peek();
    if (c === '"') return this.string();
    if (c === "<" && this.src.startsWith("<<", this.pos)) return this.heredoc();
    if (c === "[") return this.list();
    if (c === "{") return this.object();
    const num = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(this.src.slice(this.pos, this.pos + 64));
    if (num) {
      this.pos += num[0].length;
      return Number(num[0]);
    }
    const word = this.ident();
    if (word === "true") return true;
    if (word === "false") return false;
    if (word === "null") return null;
    this.fail(word === undefined ? `expected a value, found ${JSON.stringify(c)}` : `unknown value ${word}`);
  }

  string(): string {
    const s = this.src;
    let out = "";
    this.pos++; // "
    while (true) {
      if (this.pos >= s.length || s[this.pos] === "\n") this.fail("unterminated string");
      const c = s[this.pos++];
      if (c === '"') return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = s[this.pos++];
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };
      if (e in simple) out += simple[e];
      else if (e === "u" || e === "U") {
        const n = e === "u" ? 4 : 8;
        const hex = s.slice(this.pos, this.pos + n);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) this.fail(`bad \\${e} escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        this.pos += n;
      } else this.fail(`unknown escape \\${e}`, this.pos - 2);
    }
  }

  heredoc(): string {
    const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n/.exec(this.src.slice(this.pos, this.pos + 128));
    if (!m) this.fail("bad heredoc start; use <<EOF or <<-EOF and a line break");
    this.pos += m[0].length;
    const lines: string[] = [];
    while (true) {
      if (this.pos >= this.src.length) this.fail(`heredoc without its closing ${m[2]}`);
      let nl = this.src.indexOf("\n", this.pos);
      if (nl < 0) nl = this.src.length;
      const line = this.src.slice(this.pos, nl);
      this.pos = nl;
      if (line.trim() === m[2]) break;
      lines.push(line);
      this.pos++;
    }
    if (m[1] === "-") {
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length));
      return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join("\n") + "\n";
    }
    return lines.join("\n") + "\n";
  }

  list(): CtyValue[] {
    this.pos++; // [
    const out: CtyValue[] = [];
    while (true) {
      this.skip(true);
      if (this.peek() === "]") {
        this.pos++;
        return out;
      }
      out.push(this.expr());
      this.skip(true);
      if (this.peek() === ",") this.pos++;
      else if (this.peek() !== "]") this.fail(`expected "," or "]"`);
    }
  }

  object(): Obj {
    this.pos++; // {
    const out: Obj = {};
    while (true) {
      this.skip(true);
      if (this.peek() === "}") {
        this.pos++;
        return out;
      }
      const at = this.pos;
      const key = this.peek() === '"' ? this.string() : this.ident();
      if (key === undefined) this.fail(`expected a key, found ${JSON.stringify(this.peek())}`);
      this.skip(false);
      if (this.peek() !== "=" && this.peek() !== ":") {
        this.fail(`expected "=" or ":" after ${JSON.stringify(key)}`);
      }
      this.pos++;
      if (key in out) this.fail(`${JSON.stringify(key)} is set twice`, at);
      out[key] = this.expr();
      this.skip(false);
      if (this.peek() === "," || this.peek() === "\n") this.pos++;
    }
  }
}

/**
 * Parses HCL body text into a value: attributes and blocks become keys; a block given more than once
 * becomes a list.
 *
 * @throws {HclError} with the line and column of a syntax error.
 *
 * @example
 * ```ts
 * parseHcl('config {\n  image = "redis:7"\n  args = ["--port", "6379"]\n}');
 * // { config: { image: "redis:7", args: ["--port", "6379"] } }
 * ```
 */
export function parseHcl(text: string): { [k: string]: CtyValue } {
  const p = new Parser(text);
  const out = p.body("");
  return out;
}

/**
 * Reads a pasted task config: HCL or JSON, either the `config {}` block itself or its body (a lone
 * `config` key is unwrapped).
 *
 * @example
 * ```ts
 * readConfigText('{"config": {"image": "redis:7"}}'); // { image: "redis:7" }
 * readConfigText('image = "redis:7"'); // { image: "redis:7" }
 * ```
 */
export function readConfigText(text: string): { [k: string]: CtyValue } {
  const t = text.trim();
  let v: CtyValue;
  if (t.startsWith("{")) {
    try {
      v = JSON.parse(t) as CtyValue;
    } catch (e) {
      throw new SyntaxError(`not JSON: ${(e as Error).message}`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new SyntaxError("JSON: not an object");
  } else v = parseHcl(t);
  const o = v as { [k: string]: CtyValue };
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === "config" && typeof o.config === "object" && o.config !== null) {
    return o.config as { [k: string]: CtyValue };
  }
  return o;
}

/**
 * Shapes a parsed value after an hclspec tree, as Nomad's decoder would: a block list given once is a
 * list of one, and a `list(...)` attribute given one map (`sysctl = {...}`) is a list of that map.
 *
 * @example
 * ```ts
 * import { taskSpec } from "../src/spec/task_config.ts";
 * shapeForSpec({ image: "x", mounts: { target: "/a" } }, taskSpec); // { image: "x", mounts: [{ target: "/a" }] }
 * ```
 */
export function shapeForSpec(value: CtyValue, spec: SpecNode): CtyValue {
  switch (spec.kind) {
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
      const out: { [k: string]: CtyValue } = {};
      for (const [k, v] of Object.entries(value)) {
        const node = spec.attrs[k];
        out[k] = node ? shapeForSpec(v, node) : v;
      }
      return out;
    }
    case "default":
      return shapeForSpec(value, spec.primary);
    case "block":
      return shapeForSpec(value, spec.nested);
    case "block_list": {
      const list: CtyValue[] = Array.isArray(value) ? value : [value];
      return list.map((v) => shapeForSpec(v, spec.nested));
    }
    case "attr":
      if (spec.type.replace(/\s+/g, "").startsWith("list(") && !Array.isArray(value) && value !== null) {
        if (typeof value === "object") return [value];
      }
      return value;
    default:
      return value;
  }
}
