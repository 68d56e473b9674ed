/**
 * Prints the README's option tables (markdown) from the hclspec trees, so the docs come from the one
 * declaration of each option: the plugin block (src/driver/config.ts) and the task `config {}` block
 * (src/spec/task_config.ts).
 *
 * The README holds each table between markers, `<!-- options-table plugin -->` …
 * `<!-- /options-table plugin -->` and the same with `task`; tests/plugin/readme_test.ts checks that what
 * stands there is what this prints.
 *
 *   deno run scripts/options-table.ts plugin      the plugin table
 *   deno run scripts/options-table.ts task        the task table
 *   deno run --allow-read=README.md --allow-write=README.md scripts/options-table.ts --write README.md
 *                                                 refill both marked tables in place (then `deno fmt README.md`)
 *
 * @module
 */
import { pluginSpec } from "../src/driver/config.ts";
import { taskSpec } from "../src/spec/task_config.ts";
import { type OptionDoc, optionDocs, type SpecNode } from "../src/schema/hclspec.ts";

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** One markdown table for a spec tree. */
export function optionTable(spec: SpecNode): string {
  const rows = optionDocs(spec).map((d: OptionDoc) => {
    const name = d.path.includes(".") ? `\`${d.path}\`` : `**\`${d.path}\`**`;
    const def = d.default === undefined ? "" : `\`${d.default}\``;
    return `| ${name} | ${cell(d.type)} | ${d.required ? "yes" : "no"} | ${cell(def)} | ${cell(d.doc)} |`;
  });
  return ["| Option | Type | Required | Default | Description |", "| --- | --- | --- | --- | --- |", ...rows]
    .join("\n");
}

/** The tables the README holds, by marker name. */
export const TABLES: Record<string, SpecNode> = { plugin: pluginSpec, task: taskSpec };

/** The text between a table's markers in `readme`, or undefined when the markers are missing. */
export function markedTable(readme: string, name: string): string | undefined {
  const m = new RegExp(`<!-- options-table ${name} -->\\n([\\s\\S]*?)<!-- /options-table ${name} -->`)
    .exec(readme);
  return m?.[1];
}

/** `readme` with every marked table replaced by the generated one. */
export function fillTables(readme: string): string {
  let out = readme;
  for (const [name, spec] of Object.entries(TABLES)) {
    if (markedTable(out, name) === undefined) {
      throw new Error(
        `README has no <!-- options-table ${name} --> … <!-- /options-table ${name} --> markers`,
      );
    }
    out = out.replace(
      new RegExp(`(<!-- options-table ${name} -->\\n)[\\s\\S]*?(<!-- /options-table ${name} -->)`),
      (_all, open: string, close: string) => `${open}\n${optionTable(spec)}\n\n${close}`,
    );
  }
  return out;
}

if (import.meta.main) {
  const [arg, file] = Deno.args;
  if (arg === "--write") {
    const path = file ?? "README.md";
    await Deno.writeTextFile(path, fillTables(await Deno.readTextFile(path)));
  } else if (arg !== undefined && arg in TABLES) {
    console.log(optionTable(TABLES[arg]));
  } else if (arg === undefined) {
    console.log('### Plugin options (`plugin "containerd-driver" { config { ... } }`)\n');
    console.log(optionTable(pluginSpec));
    console.log('\n### Task options (`task { driver = "containerd-driver" config { ... } }`)\n');
    console.log(optionTable(taskSpec));
  } else {
    console.error(`options-table.ts: unknown argument "${arg}"; use plugin, task or --write [README.md]`);
    Deno.exit(2);
  }
}
