// The README's option tables are the schema's: an option added to the spec tree without its README
// line (or a stale line) fails here. Regenerate with
// `deno run --allow-read=README.md --allow-write=README.md scripts/options-table.ts --write && deno fmt README.md`.
import { assert, assertEquals } from "../harness/assert.ts";
import { ROOT } from "../harness/plugin.ts";

/** deno fmt aligns Markdown tables: compare cell by cell. */
function cells(t: string): string[] {
  return t.trim().split("\n").map((l) => l.split("|").map((c) => c.trim().replace(/^-+$/, "-")).join("|"));
}

for (const name of ["plugin", "task"]) {
  Deno.test(`README ${name} option table matches the ${name} schema`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", `${ROOT}/scripts/options-table.ts`, name],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const generated = new TextDecoder().decode(out.stdout);
    const readme = await Deno.readTextFile(`${ROOT}/README.md`);
    const m = new RegExp(`<!-- options-table ${name} -->\\n([\\s\\S]*?)<!-- /options-table ${name} -->`)
      .exec(readme);
    assert(
      m !== null,
      `README.md has no <!-- options-table ${name} --> … <!-- /options-table ${name} --> markers`,
    );
    assertEquals(
      cells(m[1]),
      cells(generated),
      "README.md is stale: run deno run --allow-read=README.md --allow-write=README.md " +
        "scripts/options-table.ts --write && deno fmt README.md",
    );
  });
}
