/**
 * Registry credentials: the task's `auth` block wins, then the plugin's `auth` username/password, then
 * the plugin's credential helper (`docker-credential-<helper> get`, the Docker credential-helper
 * protocol: the registry on stdin, `{"ServerURL","Username","Secret"}` JSON on stdout). Every password,
 * secret and token is registered with `registerSecret` as soon as it is seen.
 *
 * The plugin runs under Deno's permission sandbox: a helper can only run when the launcher granted
 * `--allow-run=docker-credential-<name>`, which it does for each name in the Nomad agent's environment
 * variable `CONTAINERD_DRIVER_CREDENTIAL_HELPERS` (comma-separated). Without it the pull fails with a
 * message that says so.
 *
 * @module
 */
import { registerSecret } from "../log/hclog.ts";

/** A username/password pair (a registry token may stand in as the password). */
export interface Credentials {
  username: string;
  password: string;
}

/** Where credentials may come from, highest priority first. */
export interface CredentialSources {
  /** The task's `auth` block. */
  task?: { username?: string; password?: string };
  /** The plugin's `auth` block username/password. */
  plugin?: { username?: string; password?: string };
  /** The plugin's `auth.helper`: runs `docker-credential-<helper>`. */
  helper?: string;
}

/** The environment variable the launcher reads to allow credential helpers. */
export const HELPERS_ENV = "CONTAINERD_DRIVER_CREDENTIAL_HELPERS";

/** A credential helper problem; the message names the helper. */
export class CredentialHelperError extends Error {
  constructor(readonly helper: string, msg: string, readonly permission = false) {
    super(msg);
    this.name = "CredentialHelperError";
  }
}

const HELPER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function pair(a: { username?: string; password?: string } | undefined): Credentials | undefined {
  if (!a || (!a.username && !a.password)) return undefined;
  registerSecret(a.password);
  return { username: a.username ?? "", password: a.password ?? "" };
}

/**
 * The server URL a credential helper is asked about: Docker Hub's legacy index URL for docker.io
 * (what `docker login` stores), otherwise the registry host.
 *
 * @example
 * ```ts
 * helperServerUrl("docker.io"); // "https://index.docker.io/v1/"
 * helperServerUrl("ghcr.io"); // "ghcr.io"
 * ```
 */
export function helperServerUrl(registry: string): string {
  return registry === "docker.io" ? "https://index.docker.io/v1/" : registry;
}

/**
 * Runs `docker-credential-<helper> get` for `registry`. Returns undefined when the helper has no
 * credentials for it (anonymous pull); throws {@linkcode CredentialHelperError} when the helper is not
 * allowed to run, is missing, or fails.
 *
 * @example
 * ```ts ignore
 * const creds = await runCredentialHelper("pass", "registry.example.com");
 * ```
 */
export async function runCredentialHelper(
  helper: string,
  registry: string,
  opts: { signal?: AbortSignal } = {},
): Promise<Credentials | undefined> {
  if (!HELPER_RE.test(helper)) {
    throw new CredentialHelperError(helper, `credential helper name ${JSON.stringify(helper)} is not valid`);
  }
  const command = `docker-credential-${helper}`;
  const perm = await Deno.permissions.query({ name: "run", command });
  if (perm.state !== "granted") {
    throw new CredentialHelperError(
      helper,
      `credential helper ${command} may not run: the plugin's sandbox does not allow it; add "${helper}" to ` +
        `${HELPERS_ENV} (comma-separated) in the Nomad agent's environment and restart the agent`,
      true,
    );
  }
  const out = await runHelperGet(helper, command, registry, opts.signal);
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) {
    // The protocol's "not found" answer means: no credentials stored for this registry.
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    throw new CredentialHelperError(
      helper,
      `credential helper ${command} failed (exit ${out.code}): ${(stderr || stdout).slice(0, 200)}`,
    );
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new CredentialHelperError(helper, `credential helper ${command} printed something other than JSON`);
  }
  const username = typeof parsed.Username === "string" ? parsed.Username : "";
  const secret = typeof parsed.Secret === "string" ? parsed.Secret : "";
  registerSecret(secret);
  if (!secret) return undefined;
  return { username, password: secret };
}

/** `<command> get` with the server URL on stdin; a helper that cannot start is a CredentialHelperError. */
async function runHelperGet(
  helper: string,
  command: string,
  registry: string,
  signal?: AbortSignal,
): Promise<Deno.CommandOutput> {
  try {
    const child = new Deno.Command(command, {
      args: ["get"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(helperServerUrl(registry)));
    await w.close();
    return await child.output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CredentialHelperError(helper, `credential helper ${command} was not found on PATH`);
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new CredentialHelperError(
        helper,
        `credential helper ${command} may not run (${(e as Error).name}); add "${helper}" to ${HELPERS_ENV}`,
        true,
      );
    }
    throw new CredentialHelperError(
      helper,
      `credential helper ${command} failed to start: ${(e as Error).message}`,
    );
  }
}

/**
 * Picks the credentials for `registry`: task auth, else plugin auth, else the helper (run lazily: only
 * when a registry actually asks for credentials).
 *
 * @example
 * ```ts ignore
 * const creds = await resolveCredentials("127.0.0.1:5001", { task: { username: "u", password: "p" } });
 * ```
 */
export async function resolveCredentials(
  registry: string,
  sources: CredentialSources,
  opts: { signal?: AbortSignal } = {},
): Promise<Credentials | undefined> {
  const fromTask = pair(sources.task);
  if (fromTask) return fromTask;
  const fromPlugin = pair(sources.plugin);
  if (fromPlugin) return fromPlugin;
  if (sources.helper) return await runCredentialHelper(sources.helper, registry, opts);
  return undefined;
}
