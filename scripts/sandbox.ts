/**
 * Generates everything that states the plugin's permissions from their one definition
 * (src/driver/sandbox.ts):
 *
 *   deno run --allow-read=scripts scripts/sandbox.ts launcher scripts/launcher.sh
 *                                      the launcher, its @PERM_*@ placeholders filled (stdout)
 *   deno run scripts/sandbox.ts compile-flags <socket dir> [helper,...]
 *                                      the `deno compile` permission flags and the V8 flags, one a line
 *   deno run scripts/sandbox.ts table  the README's permission table (Markdown)
 *   deno run --allow-read=README.md --allow-write=README.md scripts/sandbox.ts --write README.md
 *                                      refill the README's `<!-- sandbox-table -->` block (then `deno fmt README.md`)
 *
 * tests/plugin/sandbox_test.ts checks the built launcher, a running plugin's command line and the README
 * against the definition.
 *
 * @module
 */
import {
  joinNames,
  permissionFlags,
  permissionTable,
  runtimeEnvLines,
  SANDBOX,
  v8FlagsArg,
} from "../src/driver/sandbox.ts";

/** The launcher template's placeholders and what fills them. */
export const LAUNCHER_VALUES: Record<string, string> = {
  "@PERM_ENV@": joinNames(SANDBOX.env),
  "@PERM_RW@": joinNames(SANDBOX.readWrite),
  "@PERM_RO@": joinNames(SANDBOX.readOnly),
  "@PERM_RUN@": joinNames(SANDBOX.run),
  "@PERM_SYS@": joinNames(SANDBOX.sys),
  "@V8_FLAGS@": v8FlagsArg(),
  "@RUNTIME_ENV@": runtimeEnvLines(),
};

/** The launcher template with every placeholder filled; throws when one is missing or left over. */
export function fillLauncher(template: string): string {
  let out = template;
  for (const [k, v] of Object.entries(LAUNCHER_VALUES)) {
    if (!out.includes(k)) throw new Error(`launcher template lacks ${k}`);
    out = out.replaceAll(k, v);
  }
  const left = /@(PERM_[A-Z]+|V8_FLAGS|RUNTIME_ENV)@/.exec(out);
  if (left) throw new Error(`launcher template has an unknown placeholder ${left[0]}`);
  return out;
}

const MARK = /(<!-- sandbox-table -->\n)[\s\S]*?(<!-- \/sandbox-table -->)/;

/** The README's marked permission table, or undefined without the markers. */
export function markedSandboxTable(readme: string): string | undefined {
  return MARK.exec(readme)?.[0].replace(/^<!-- sandbox-table -->\n/, "").replace(
    /<!-- \/sandbox-table -->$/,
    "",
  );
}

if (import.meta.main) {
  const [cmd, ...rest] = Deno.args;
  if (cmd === "launcher") {
    console.log(fillLauncher(Deno.readTextFileSync(rest[0])).replace(/\n$/, ""));
  } else if (cmd === "compile-flags") {
    const helpers = (rest[1] ?? "").split(",").filter(Boolean);
    console.log(
      [...permissionFlags({ socketDir: rest[0], credentialHelpers: helpers }), v8FlagsArg()].join("\n"),
    );
  } else if (cmd === "table") {
    console.log(permissionTable());
  } else if (cmd === "--write") {
    const readme = Deno.readTextFileSync(rest[0]);
    if (!MARK.test(readme)) throw new Error(`${rest[0]} has no <!-- sandbox-table --> markers`);
    Deno.writeTextFileSync(rest[0], readme.replace(MARK, `$1${permissionTable()}\n$2`));
  } else {
    console.error(
      "usage: sandbox.ts launcher <template> | compile-flags <socket dir> [helpers] | table | --write README.md",
    );
    Deno.exit(2);
  }
}
