/// <reference lib="dom" />
/**
 * The playground page: a task `config {}` block or a whole job file (HCL or JSON) and an image reference
 * in, the normalized reference, the OCI spec src/spec builds (with src/spec/example.ts's Nomad values) and
 * a table of seccomp verdicts out. The WASM modules are the files in wasm/, fetched by the page and handed
 * to the same loader the plugin uses (src/wasm/load.ts). HCL is read by HashiCorp's parser (web/hcl.ts),
 * whose WASM is fetched only when the config text is HCL.
 *
 * Bundled for the browser by `deno task playground` (deno bundle --platform browser).
 *
 * @module
 */
import { initWasm, WASM_MODULES, type WasmModuleName, wasmOrigin } from "../src/wasm/load.ts";
import { familiarReference, formatReference, parseReference } from "../src/image/reference.ts";
import { buildSpec } from "../src/spec/build.ts";
import { exampleInput } from "../src/spec/example.ts";
import { specJson } from "../src/spec/oci.ts";
import { DEFAULT_PROFILE, seccompVerdict, syscallTable, toOciSeccomp } from "../src/spec/seccomp.ts";
import { taskSpec } from "../src/spec/task_config.ts";
import type { CtyValue } from "../src/schema/values.ts";
import { hclLoaded, loadHcl, readConfigText, shapeForSpec } from "./hcl.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function loadWasm(): Promise<void> {
  const modules: Partial<Record<WasmModuleName, { bytes: ArrayBuffer; source: string }>> = {};
  await Promise.all(WASM_MODULES.map(async (name) => {
    const res = await fetch(new URL(`wasm/${name}.wasm`, location.href));
    if (!res.ok) throw new Error(`GET ${res.url}: ${res.status}`);
    modules[name] = { bytes: await res.arrayBuffer(), source: res.url };
  }));
  await initWasm(modules);
  $("wasm-status").textContent = "WASM: " +
    WASM_MODULES.map((n) => `${n}.wasm ${wasmOrigin(n)?.bytes} B`).join(" · ");
  $("wasm-status").dataset.loaded = "true";
}

/** Loads HashiCorp's HCL parser on first use; the status line shows its size and load time. */
async function ensureHcl(): Promise<void> {
  if (hclLoaded()) return;
  const status = $("hcl-status");
  status.textContent = "HCL parser: loading…";
  const t0 = performance.now();
  const res = await fetch(new URL("hcl2json.wasm", location.href));
  if (!res.ok) throw new Error(`GET ${res.url}: ${res.status}`);
  const bytes = await res.arrayBuffer();
  await loadHcl(bytes);
  const ms = Math.round(performance.now() - t0);
  status.textContent = `HCL parser: hcl2json.wasm ${bytes.byteLength} B in ${ms} ms`;
  status.dataset.loaded = "true";
  status.dataset.ms = String(ms);
}

/** The config text, parsed (HCL or JSON) and shaped like Nomad's decoder shapes it. */
async function readConfig(): Promise<{ [k: string]: CtyValue }> {
  const text = $<HTMLTextAreaElement>("config").value;
  if (!text.trim().startsWith("{")) await ensureHcl();
  return shapeForSpec(await readConfigText(text), taskSpec) as { [k: string]: CtyValue };
}

function parseArgs(text: string): bigint[] {
  return text.split(/[\s,]+/).filter((s) => s).map((s) => BigInt(s));
}

function show(el: HTMLElement, pairs: [string, string][]): void {
  el.replaceChildren(...pairs.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dd.dataset.testid = `ref-${k}`;
    return [dt, dd];
  }));
}

interface Row {
  nr: number;
  name: string;
  action: string;
  errno: string;
  note: string;
}
let rows: Row[] = [];

function renderRows(): void {
  const q = $<HTMLInputElement>("search").value.trim().toLowerCase();
  const shown = rows.filter((r) => !q || r.name.includes(q) || String(r.nr) === q);
  const body = $("verdicts");
  body.replaceChildren(...shown.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.syscall = r.name;
    for (const [i, v] of [String(r.nr), r.name, r.action, r.errno, r.note].entries()) {
      const td = document.createElement("td");
      td.textContent = v;
      if (i === 2) td.className = r.action;
      tr.append(td);
    }
    return tr;
  }));
}

let renders = 0;
async function render(): Promise<void> {
  const mine = ++renders;
  const errors: string[] = [];
  let config: { [k: string]: CtyValue } = {};
  try {
    config = await readConfig();
  } catch (e) {
    errors.push(`config: ${(e as Error).message}`);
  }
  if (mine === renders) renderWith(config, errors); // a later input has its own render
}

function renderWith(config: { [k: string]: CtyValue }, errors: string[]): void {
  const arch = $<HTMLSelectElement>("arch").value;
  const image = $<HTMLInputElement>("image").value.trim();
  if (image) config.image = image;

  // image reference
  try {
    const ref = parseReference(String(config.image ?? ""));
    show($("ref"), [
      ["normalized", formatReference(ref)],
      ["familiar", familiarReference(ref)],
      ["domain", ref.domain],
      ["path", ref.path],
      ["tag", ref.tag ?? "—"],
      ["digest", ref.digest ?? "—"],
    ]);
  } catch (e) {
    show($("ref"), [["error", (e as Error).message]]);
  }

  // spec
  let profile: unknown = undefined;
  const profileText = $<HTMLTextAreaElement>("profile").value.trim();
  if (profileText) {
    try {
      profile = JSON.parse(profileText);
    } catch (e) {
      errors.push(`seccomp profile: ${(e as Error).message}`);
    }
  }
  let seccomp = undefined;
  try {
    const base = exampleInput();
    const input = exampleInput(config, { host: { ...base.host, arch }, seccompProfile: profile });
    const spec = buildSpec(input);
    $("spec").textContent = specJson(spec, 2);
    seccomp = spec.linux.seccomp;
    // The plugin's WASM conversion must give the section src/spec built.
    if (seccomp) {
      const wasm = toOciSeccomp(input.task.seccompProfile !== undefined ? profile : DEFAULT_PROFILE, {
        arch,
        kernel: input.host.kernel,
        capabilities: spec.process.capabilities?.bounding ?? [],
      });
      const same = specJson(wasm as never) === specJson(seccomp as never);
      $("seccomp-summary").textContent =
        `${seccomp.syscalls?.length ?? 0} rules, default ${seccomp.defaultAction}` +
        ` · WASM conversion ${same ? "matches" : "DIFFERS from"} src/spec's`;
    } else {$("seccomp-summary").textContent =
        "no seccomp filter (privileged or seccomp = false): all allowed";}
  } catch (e) {
    errors.push(`spec: ${(e as Error).message}`);
    $("spec").textContent = "";
    $("seccomp-summary").textContent = "";
  }

  // verdicts
  let args: bigint[] = [];
  try {
    args = parseArgs($<HTMLInputElement>("args").value);
  } catch {
    errors.push("arguments: use numbers such as 0x10000000 or 8");
  }
  const table = syscallTable(arch) ?? {};
  rows = Object.entries(table).sort((a, b) => a[1] - b[1]).map(([name, nr]) => {
    const v = seccompVerdict(seccomp, name, args, arch);
    return {
      nr,
      name,
      action: v.action,
      errno: v.errno === undefined ? "" : String(v.errno),
      note: v.conditional ? "depends on arguments" : "",
    };
  });
  renderRows();
  $("errors").textContent = errors.join("\n");
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

let timer: ReturnType<typeof setTimeout> | undefined;
function later(): void {
  clearTimeout(timer);
  timer = setTimeout(render, 120);
}

await loadWasm();
for (const id of ["config", "image", "profile", "args"]) $(id).addEventListener("input", later);
$("arch").addEventListener("change", render);
$("search").addEventListener("input", renderRows);
await render();
