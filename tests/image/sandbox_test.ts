/**
 * Under the plugin's permission sandbox, a credential helper that the launcher did not allow gives a
 * clear error naming the helper and CONTAINERD_DRIVER_CREDENTIAL_HELPERS; an allowed one runs. The
 * script runs in a child Deno with scoped permissions like scripts/launcher.sh grants.
 */
import { assertEquals, assertMatch } from "../harness/assert.ts";

Deno.test("sandbox: credential helper permission comes from --allow-run, with a clear error otherwise", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdrv-img-sandbox-" });
  try {
    await Deno.writeTextFile(
      `${dir}/docker-credential-cdrvok`,
      `#!/bin/sh\nread s\nprintf '{"ServerURL":"%s","Username":"u","Secret":"sandbox-secret"}' "$s"\n`,
    );
    await Deno.chmod(`${dir}/docker-credential-cdrvok`, 0o755);
    const auth = new URL("../../src/image/auth.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/probe.ts`,
      `import { runCredentialHelper } from "${auth}";
for (const h of ["cdrvok", "cdrvnope"]) {
  try { const c = await runCredentialHelper(h, "reg.example"); console.log(h, "ok", c?.username); }
  catch (e) { console.log(h, "error", (e as Error).message); }
}
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--no-config",
        `--allow-read=${dir},${new URL("../../", import.meta.url).pathname}`,
        "--allow-run=mkfifo,docker-credential-cdrvok",
        `${dir}/probe.ts`,
      ],
      env: { PATH: `${dir}:${Deno.env.get("PATH")}` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertEquals(lines[0], "cdrvok ok u");
    assertMatch(lines[1], /^cdrvnope error credential helper docker-credential-cdrvnope may not run/);
    assertMatch(lines[1], /CONTAINERD_DRIVER_CREDENTIAL_HELPERS/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
