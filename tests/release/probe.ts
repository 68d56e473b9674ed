/**
 * Run by the release tests with exactly the permission flags an installed plugin's deno process got (read
 * from its command line): tries what the sandbox must refuse and what it must allow, and prints one JSON
 * object `{ <attempt>: "allowed" | "refused: <why>" | "failed: <error>" }`. Not part of the plugin.
 *
 *   deno run <flags> probe.ts <secret file in /tmp> <a granted dir>
 *
 * @module
 */
const [secret, granted] = Deno.args;

async function attempt(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return "allowed";
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return `refused: ${(e as Error).message.split("\n")[0]}`;
    }
    return `failed: ${(e as Error).message.split("\n")[0]}`;
  }
}

const run = (cmd: string, ...args: string[]) => () =>
  new Deno.Command(cmd, { args, stdout: "null" }).output();
const file = `cdrv-probe-${Deno.pid}`;
const results: Record<string, string> = {
  "read another process's file in /tmp": await attempt(() => Deno.readTextFile(secret)),
  "list /tmp": await attempt(async () => {
    for await (const _ of Deno.readDir("/tmp")) break;
  }),
  "read /etc/shadow": await attempt(() => Deno.readTextFile("/etc/shadow")),
  "list /root": await attempt(async () => {
    for await (const _ of Deno.readDir("/root")) break;
  }),
  "write /tmp": await attempt(() => Deno.writeTextFile(`/tmp/${file}`, "x")),
  "write /etc": await attempt(() => Deno.writeTextFile(`/etc/${file}`, "x")),
  "write /var/tmp": await attempt(() => Deno.writeTextFile(`/var/tmp/${file}`, "x")),
  "run sh": await attempt(run("sh", "-c", "true")),
  "run cat": await attempt(run("cat", "/etc/hostname")),
  "run id": await attempt(run("id")),
  "read env HOME": await attempt(() => Promise.resolve(Deno.env.get("HOME"))),
  "write the granted dir": await attempt(async () => {
    await Deno.writeTextFile(`${granted}/${file}`, "x");
    await Deno.remove(`${granted}/${file}`);
  }),
  "run mkfifo": await attempt(run("mkfifo", "--help")),
};
console.log(JSON.stringify(results));
