// The README's option tables are the schema's: an option added to the spec tree without its README
// line (or a stale line) fails here. Regenerate with `deno run scripts/options-table.ts`.
import { assertEquals } from "../harness/assert.ts";
import { ROOT } from "../harness/plugin.ts";

/** deno fmt aligns Markdown tables: compare cell by cell. */
function cells(t: string): string[] {
  return t.trim().split("\n").map((l) => l.split("|").map((c) => c.trim().replace(/^-+$/, "-")).join("|"));
}

Deno.test("README option tables match the plugin and task schemas", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `${ROOT}/scripts/options-table.ts`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const generated = new TextDecoder().decode(out.stdout);
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  const m = /<!-- options-table -->\n([\s\S]*?)\n<!-- \/options-table -->/.exec(readme);
  assertEquals(
    cells(m?.[1] ?? ""),
    cells(generated),
    "README.md is stale: run deno run scripts/options-table.ts",
  );
});
