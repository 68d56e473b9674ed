// The layering of docs/architecture.md, checked on the real module graph (`deno info --json` from every
// entry point): no import between groups that the doc's table does not list, no import cycle between files
// or between groups, and no Deno API call in a module that must stay browser-pure.
import { assert, assertEquals } from "./harness/assert.ts";
import { ROOT } from "./harness/plugin.ts";

const ENTRIES = [
  "mod.ts",
  "web/app.ts",
  "web/serve.ts",
  "bench/run.ts",
  "bench/wasm.ts",
  "scripts/options-table.ts",
];

/** The fenced block named `name` of docs/architecture.md. */
async function docBlock(name: string): Promise<string> {
  const doc = await Deno.readTextFile(`${ROOT}/docs/architecture.md`);
  const m = new RegExp("```" + name + "\\n([\\s\\S]*?)```").exec(doc);
  if (!m) throw new Error(`docs/architecture.md has no \`\`\`${name} block`);
  return m[1];
}

/** group → the groups (or files) it may import. */
async function allowedArrows(): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const line of (await docBlock("arrows")).split("\n")) {
    const m = /^(\S+)\s*->\s*(.*)$/.exec(line.trim());
    if (m) out.set(m[1], new Set(m[2].split(/\s+/).filter(Boolean)));
  }
  return out;
}

/** The group of a repo path: a folder under src/ or tests/, a top folder, or a top-level file. */
function groupOf(path: string): string {
  const parts = path.split("/");
  if (parts.length === 1) return path;
  if ((parts[0] === "src" || parts[0] === "tests") && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0] === "src" ? path : parts[0];
}

/** Every local file import (code and type) reachable from the entry points: [from, to] repo paths. */
async function moduleGraph(): Promise<[string, string][]> {
  const edges = new Map<string, [string, string]>();
  const local = (s?: string) =>
    s?.startsWith(`file://${ROOT}/`) ? s.slice(`file://${ROOT}/`.length) : undefined;
  for (const entry of ENTRIES) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(out.success, `deno info ${entry}: ${new TextDecoder().decode(out.stderr)}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout));
    for (
      const m of info.modules as {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[]
    ) {
      const from = local(m.specifier);
      if (!from) continue;
      for (const d of m.dependencies ?? []) {
        for (const to of [local(d.code?.specifier), local(d.type?.specifier)]) {
          if (to && to !== from) edges.set(`${from} ${to}`, [from, to]);
        }
      }
    }
  }
  return [...edges.values()];
}

/** The strongly connected components with more than one node (Tarjan): the import cycles. */
function cycles(edges: [string, string][]): string[][] {
  const next = new Map<string, string[]>();
  for (const [a, b] of edges) next.set(a, [...(next.get(a) ?? []), b]);
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], on = new Set<string>(), out: string[][] = [];
  let i = 0;
  const visit = (v: string) => {
    index.set(v, i), low.set(v, i++), stack.push(v), on.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) visit(w), low.set(v, Math.min(low.get(v)!, low.get(w)!));
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do (w = stack.pop()!), on.delete(w), scc.push(w); while (w !== v);
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out;
}

const graph = moduleGraph();

Deno.test("architecture: every import between groups is one docs/architecture.md allows", async () => {
  const allowed = await allowedArrows();
  const bad = new Set<string>();
  for (const [from, to] of await graph) {
    const [gf, gt] = [groupOf(from), groupOf(to)];
    if (gf === gt) continue;
    const ok = allowed.get(gf) ?? allowed.get(`${gf.split("/")[0]}/*`);
    if (ok?.has("*") || ok?.has(gt) || ok?.has(to)) continue;
    bad.add(`${from} → ${to} (${gf} → ${gt}${ok ? "" : `: ${gf} has no line in the table`})`);
  }
  assertEquals([...bad].sort(), [], "imports the architecture does not allow");
});

Deno.test("architecture: no import cycle, between files or between groups", async () => {
  const edges = await graph;
  assert(edges.length > 200, `the module graph looks incomplete: ${edges.length} imports`);
  assertEquals(cycles(edges), [], "file cycles");
  const groups = edges.map(([a, b]) => [groupOf(a), groupOf(b)] as [string, string]).filter(([a, b]) =>
    a !== b
  );
  assertEquals(cycles(groups), [], "group cycles");
});

Deno.test("architecture: the cycle finder finds a cycle (so the test above can fail)", () => {
  assertEquals(cycles([["a", "b"], ["b", "c"], ["c", "a"], ["c", "d"]]), [["a", "b", "c"]]);
  assertEquals(cycles([["a", "b"], ["b", "c"]]), []);
});

Deno.test("architecture: browser-pure modules call no Deno API", async () => {
  const pure = (await docBlock("pure")).split(/\s+/).filter(Boolean);
  const offenders: string[] = [];
  const check = async (path: string) => {
    if (!path.endsWith(".ts") || path.endsWith("_test.ts")) return;
    const text = await Deno.readTextFile(`${ROOT}/${path}`);
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    if (/\bDeno\./.test(code)) offenders.push(path);
  };
  let files = 0;
  for (const p of pure) {
    if (p.endsWith(".ts")) {
      await check(p), files++;
      continue;
    }
    for await (const e of Deno.readDir(`${ROOT}/${p}`)) {
      if (e.isFile) await check(`${p}/${e.name}`), files++;
      if (e.isDirectory) {
        for await (
          const f of Deno.readDir(`${ROOT}/${p}/${e.name}`)
        ) await check(`${p}/${e.name}/${f.name}`), files++;
      }
    }
  }
  assert(files > 20, `only ${files} pure files found`);
  assertEquals(offenders, [], "browser-pure modules that call Deno APIs");
});
