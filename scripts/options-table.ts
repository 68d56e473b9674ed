/**
 * Prints the README's option tables (markdown) from the hclspec trees, so the docs come from the one
 * declaration of each option: the plugin block (src/driver/config.ts) and the task `config {}` block
 * (src/spec/task_config.ts).
 *
 *   deno run scripts/options-table.ts > /tmp/options.md
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

if (import.meta.main) {
  console.log('### Plugin options (`plugin "containerd-driver" { config { ... } }`)\n');
  console.log(optionTable(pluginSpec));
  console.log('\n### Task options (`task { driver = "containerd-driver" config { ... } }`)\n');
  console.log(optionTable(taskSpec));
}
