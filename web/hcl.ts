/**
 * The playground's HCL reader: HashiCorp's own HCL 2 parser (Go, compiled to WASM) from npm
 * `@cdktf/hcl2json`, so the page accepts exactly the syntax Nomad accepts — a task's `config {}` block,
 * its body, or a whole job file (then the `config` of its tasks with `driver = "containerd-driver"`).
 *
 * The WASM (1.7 MB gzipped, 6.5 MB raw) is loaded lazily with {@linkcode loadHcl}, only by the playground;
 * the caller hands over the bytes or a `Response` (web/serve.ts serves it as `/hcl2json.wasm`, gzip-encoded),
 * so this file stays browser pure. The output is hcl2json's JSON shape: every block is a list of bodies
 * (labels become nested keys), and an expression that is not a literal stays text as `"${...}"`
 * (Nomad would evaluate it; the playground shows it). {@linkcode shapeForSpec} turns that shape into the
 * one the task's hclspec decodes.
 *
 * @module
 */
import type { CtyValue } from "../src/schema/values.ts";
import type { SpecNode } from "../src/schema/hclspec.ts";

/** A syntax error with its 1-based line and column, as HCL reports it. */
export class HclError extends Error {
  constructor(readonly line: number, readonly column: number, problem: string) {
    super(`line ${line}, column ${column}: ${problem}`);
    this.name = "HclError";
  }
}

type Obj = { [k: string]: CtyValue };
type GoCallback = (err: string | null, out: string) => void;
/** What the Go program registers on its global (named by hcl2json's Go `main`). */
interface Hcl2Json {
  parse(filename: string, text: string, cb: GoCallback): void;
}
/** `Go` from wasm_exec.js, which sets it on globalThis. */
interface GoRuntime {
  importObject: WebAssembly.Imports;
  run(instance: WebAssembly.Instance): Promise<void>;
}
const GLOBAL = "__parse_terraform_config_wasm__";
const g = globalThis as unknown as Record<string, unknown> & { Go: new () => GoRuntime };

let loading: Promise<Hcl2Json> | undefined;
let loaded: Hcl2Json | undefined;

async function instantiate(wasm: Response | PromiseLike<Response> | BufferSource): Promise<Hcl2Json> {
  await import("@cdktf/hcl2json/wasm/wasm_exec.js"); // Go's JS runtime: sets globalThis.Go
  const go = new g.Go();
  const source = await wasm;
  const { instance } = source instanceof Response
    ? await WebAssembly.instantiateStreaming(source, go.importObject)
    : await WebAssembly.instantiate(source, go.importObject);
  const api = {} as Hcl2Json;
  // The Go side looks its object up as `global.<name>`: Node's name for globalThis, which browsers lack.
  g.global ??= globalThis;
  g[GLOBAL] = api;
  void go.run(instance); // runs main(), which fills `api` and then waits for calls forever
  if (typeof api.parse !== "function") throw new Error("hcl2json WASM did not register its parse function");
  return loaded = api;
}

/**
 * Loads HashiCorp's HCL parser once (later calls return the first load). `wasm` is hcl2json's
 * `main.wasm` (decompressed) as bytes or as a `Response` with `content-type: application/wasm`.
 *
 * @example
 * ```ts ignore
 * await loadHcl(fetch("/hcl2json.wasm"));
 * ```
 */
export function loadHcl(wasm: Response | PromiseLike<Response> | BufferSource): Promise<void> {
  loading ??= instantiate(wasm);
  loading.catch(() => loading = undefined); // a failed load may be retried
  return loading.then(() => {});
}

/** True once {@linkcode loadHcl} has finished. */
export function hclLoaded(): boolean {
  return loaded !== undefined;
}

/** hcl2json's error text, e.g. `parse config: [config.hcl:2,8-9: Missing item separator; Expected ...]`. */
function hclError(message: string): Error {
  const m = /:(\d+),(\d+)(?:-\d+(?:,\d+)?)?: ([^\]]*)/.exec(message);
  return m ? new HclError(Number(m[1]), Number(m[2]), m[3]) : new SyntaxError(message);
}

/**
 * Parses HCL text with HashiCorp's parser into hcl2json's JSON shape (blocks are lists).
 *
 * @throws {HclError} with the line and column of the first syntax error.
 *
 * @example
 * ```ts ignore
 * await parseHcl('config {\n  image = "redis:7"\n}\n'); // { config: [{ image: "redis:7" }] }
 * ```
 */
export function parseHcl(text: string, filename = "config.hcl"): Promise<Obj> {
  const api = loaded;
  if (!api) return Promise.reject(new Error("the HCL parser is not loaded yet (loadHcl)"));
  return new Promise((resolve, reject) => {
    api.parse(filename, text, (err, out) => err ? reject(hclError(err)) : resolve(JSON.parse(out) as Obj));
  });
}

function isObj(v: CtyValue | undefined): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asList(v: CtyValue): CtyValue[] {
  return Array.isArray(v) ? v as CtyValue[] : [v];
}

/** The bodies of a labelled block in hcl2json's shape: `{ label: [body, ...], ... }`. */
function labelled(v: CtyValue | undefined): [string, Obj][] {
  if (!isObj(v)) return [];
  return Object.entries(v).flatMap(([label, list]) =>
    asList(list).filter((b) => isObj(b)).map((body): [string, Obj] => [label, body])
  );
}

/**
 * The `config` bodies of a parsed job file's tasks that use this driver, with their task names.
 *
 * @example
 * ```ts ignore
 * driverConfigs(await parseHcl(jobText)); // [{ task: "redis", config: { image: "redis:7" } }]
 * ```
 */
export function driverConfigs(doc: Obj, driver = "containerd-driver"): { task: string; config: Obj }[] {
  const out: { task: string; config: Obj }[] = [];
  for (const [, job] of labelled(doc.job)) {
    for (const [, group] of labelled(job.group)) {
      for (const [task, body] of labelled(group.task)) {
        const config = Array.isArray(body.config) ? body.config[0] : body.config;
        if (body.driver === driver && isObj(config)) out.push({ task, config });
      }
    }
  }
  return out;
}

/** Takes the task config out of a parsed document: a job file, a lone `config` block, or the body. */
function configOf(doc: Obj): Obj {
  if ("job" in doc) {
    const found = driverConfigs(doc);
    if (found.length === 0) throw new SyntaxError('the job has no task with driver = "containerd-driver"');
    return found[0].config;
  }
  const keys = Object.keys(doc);
  if (keys.length === 1 && keys[0] === "config") {
    const c = Array.isArray(doc.config) && doc.config.length === 1 ? doc.config[0] : doc.config;
    if (isObj(c)) return c;
  }
  return doc;
}

/**
 * Reads a pasted task config: JSON, or HCL (needs {@linkcode loadHcl} first): a whole job file, the
 * `config {}` block, or its body.
 *
 * @example
 * ```ts ignore
 * await readConfigText('{"config": {"image": "redis:7"}}'); // { image: "redis:7" }
 * await readConfigText('image = "redis:7"'); // { image: "redis:7" }
 * ```
 */
export async function readConfigText(text: string): Promise<Obj> {
  const t = text.trim();
  if (!t.startsWith("{")) return configOf(await parseHcl(t));
  let v: CtyValue;
  try {
    v = JSON.parse(t) as CtyValue;
  } catch (e) {
    throw new SyntaxError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObj(v)) throw new SyntaxError("JSON: not an object");
  return configOf(v);
}

/** A block given once: hcl2json makes it a list of one body. */
function single(value: CtyValue): CtyValue {
  return Array.isArray(value) && value.length === 1 && isObj(value[0]) ? value[0] : value;
}

/**
 * Shapes a parsed value after an hclspec tree, as Nomad's decoder would: a single block (a list of one
 * body in hcl2json's shape) becomes its body, a block list stays a list, a `map(...)` attribute written
 * as a block is that map, and a `list(...)` attribute given one map (`sysctl = {...}`) is a list of it.
 *
 * @example
 * ```ts
 * import { taskSpec } from "../src/spec/task_config.ts";
 * shapeForSpec({ image: "x", auth: [{ username: "u" }], mounts: { target: "/a" } }, taskSpec);
 * // { image: "x", auth: { username: "u" }, mounts: [{ target: "/a" }] }
 * ```
 */
export function shapeForSpec(value: CtyValue, spec: SpecNode): CtyValue {
  switch (spec.kind) {
    case "object": {
      const v = single(value);
      if (!isObj(v)) return v;
      const out: Obj = {};
      for (const [k, x] of Object.entries(v)) out[k] = spec.attrs[k] ? shapeForSpec(x, spec.attrs[k]) : x;
      return out;
    }
    case "default":
      return shapeForSpec(value, spec.primary);
    case "block":
      return shapeForSpec(single(value), spec.nested);
    case "block_list":
      return asList(value).map((v) => shapeForSpec(v, spec.nested));
    case "attr":
      return shapeAttr(value, spec.type.replace(/\s+/g, ""));
    default:
      return value;
  }
}

function shapeAttr(value: CtyValue, type: string): CtyValue {
  if (type.startsWith("list(") && isObj(value)) return [value];
  if ((type.startsWith("map(") || type.startsWith("object(")) && Array.isArray(value)) return single(value);
  return value;
}
