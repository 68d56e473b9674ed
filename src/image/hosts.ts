/**
 * Registry hosts from a containerd-style hosts directory (`<dir>/<registry host>/hosts.toml`), so
 * mirrors, private CAs, plain-HTTP registries and extra headers work the way they do for
 * `ctr --hosts-dir` and containerd's CRI `config_path`.
 *
 * ```toml
 * server = "https://registry-1.docker.io"     # the upstream, tried last
 * [host."http://127.0.0.1:5000"]              # mirrors, tried in file order
 *   capabilities = ["pull", "resolve"]        # default: pull, resolve, push
 *   ca = "/etc/certs/ca.crt"                  # string or list; relative to the host's directory
 *   skip_verify = false
 *   client = [["/c.crt", "/c.key"]]           # client certificate pairs (or "c.pem" with key inside)
 *   override_path = false                     # true: the URL path is the API root, no "/v2" appended
 *   [host."http://127.0.0.1:5000".header]
 *     x-custom = "value"                      # string or list
 * ```
 *
 * Which scheme without a hosts.toml (decided here, matching containerd 1.6's resolver): `docker.io` →
 * `https://registry-1.docker.io`; a loopback host (`localhost`, `127.0.0.0/8`, `::1`, any port) →
 * plain `http://` (containerd 1.6 does the same; a TLS registry on loopback needs a hosts.toml that
 * says `https://`); any other host → `https://`. A host URL in a hosts.toml always means exactly its
 * scheme. Without a hosts.toml, `*.crt` files in the host's directory are extra CAs (certs.d style), and
 * `_default/hosts.toml` applies to registries that have no directory of their own.
 *
 * The files are parsed by npm `smol-toml` (TOML 1.0); its syntax errors become one-line
 * {@linkcode HostsConfigError}s with the file, line, column and the offending line's text.
 *
 * @module
 */
import { parse as parseToml, TomlError, type TomlTable, type TomlValue } from "smol-toml";

/** One registry endpoint to try, in order. */
export interface RegistryHost {
  scheme: "http" | "https";
  /** host[:port] */
  host: string;
  /** API root path, normally "/v2". */
  path: string;
  capabilities: { pull: boolean; resolve: boolean; push: boolean };
  /** PEM file paths of extra CAs. */
  ca: string[];
  skipVerify: boolean;
  /** Client certificate and key file paths (key "" when the cert file holds both). */
  client: [string, string][];
  headers: Record<string, string[]>;
  /** The registry the reference names; a mirror (host ≠ registry) gets `?ns=<registry>` on requests. */
  registry: string;
}

/** A hosts.toml that cannot be used; names the file. */
export class HostsConfigError extends Error {
  constructor(readonly file: string, msg: string) {
    super(`registry hosts file ${file}: ${msg}`);
    this.name = "HostsConfigError";
  }
}

/**
 * True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port.
 *
 * @example
 * ```ts
 * isLoopback("127.0.0.1:5000"); // true
 * isLoopback("registry.example:5000"); // false
 * ```
 */
export function isLoopback(host: string): boolean {
  let h = host;
  if (h.startsWith("[")) h = h.slice(1, h.indexOf("]"));
  else if (h.split(":").length === 2) h = h.split(":")[0];
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The endpoint used when no hosts.toml names a server for `registry`.
 *
 * @example
 * ```ts
 * defaultHost("docker.io").host; // "registry-1.docker.io"
 * defaultHost("127.0.0.1:5000").scheme; // "http"
 * ```
 */
export function defaultHost(registry: string, ca: string[] = []): RegistryHost {
  const scheme = isLoopback(registry) ? "http" : "https";
  return {
    scheme,
    host: registry === "docker.io" ? "registry-1.docker.io" : registry,
    path: "/v2",
    capabilities: { pull: true, resolve: true, push: true },
    ca,
    skipVerify: false,
    client: [],
    headers: {},
    registry,
  };
}

/** True for a TOML table (smol-toml gives dates as Date objects, which are not tables). */
function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}

/** One line for smol-toml's error: where, what, and the line's text (its message adds a code block). */
function tomlProblem(e: TomlError, text: string): string {
  const what = e.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
  const src = text.split(/\r?\n/)[e.line - 1]?.trim() ?? "";
  return `line ${e.line}, column ${e.column}: ${what}${src ? ` in ${JSON.stringify(src)}` : ""}`;
}

function strings(file: string, key: string, v: TomlValue | undefined): string[] {
  if (v === undefined) return [];
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw new HostsConfigError(file, `"${key}" must be a string or a list of strings`);
}

function resolvePath(baseDir: string, p: string): string {
  return p.startsWith("/") ? p : `${baseDir}/${p}`;
}

function hostEntry(
  file: string,
  baseDir: string,
  registry: string,
  url: string,
  t: TomlTable,
): RegistryHost {
  const withScheme = /^https?:\/\//.test(url) ? url : `https://${url}`;
  if (!URL.canParse(withScheme)) throw new HostsConfigError(file, `host ${JSON.stringify(url)} is not a URL`);
  const u = new URL(withScheme);
  let path = u.pathname.replace(/\/+$/, "");
  if (t.override_path !== true && !path.endsWith("/v2")) path += "/v2";
  if (t.skip_verify !== undefined && typeof t.skip_verify !== "boolean") {
    throw new HostsConfigError(file, `"skip_verify" must be true or false`);
  }
  return {
    scheme: u.protocol === "http:" ? "http" : "https",
    host: u.host,
    path,
    capabilities: hostCapabilities(file, t.capabilities),
    ca: strings(file, "ca", t.ca).map((p) => resolvePath(baseDir, p)),
    skipVerify: t.skip_verify === true,
    client: clientCerts(file, baseDir, t.client),
    headers: hostHeaders(file, t.header),
    registry,
  };
}

/** `capabilities`: pull, resolve and push; all three when not given. */
function hostCapabilities(file: string, v: TomlValue | undefined): RegistryHost["capabilities"] {
  if (v === undefined) return { pull: true, resolve: true, push: true };
  const list = strings(file, "capabilities", v);
  for (const c of list) {
    if (!["pull", "resolve", "push"].includes(c)) {
      throw new HostsConfigError(
        file,
        `unknown capability ${JSON.stringify(c)}; use "pull", "resolve" or "push"`,
      );
    }
  }
  return { pull: list.includes("pull"), resolve: list.includes("resolve"), push: list.includes("push") };
}

/** `client`: a cert path (key in the same file), or a list of paths and [cert, key] pairs. */
function clientCerts(file: string, baseDir: string, cv: TomlValue | undefined): [string, string][] {
  if (cv === undefined) return [];
  if (typeof cv === "string") return [[resolvePath(baseDir, cv), ""]];
  if (!Array.isArray(cv)) throw new HostsConfigError(file, `"client" must be a path or a list`);
  return cv.map((item): [string, string] => {
    if (typeof item === "string") return [resolvePath(baseDir, item), ""];
    if (Array.isArray(item) && item.length === 2 && item.every((x) => typeof x === "string")) {
      return [resolvePath(baseDir, item[0] as string), resolvePath(baseDir, item[1] as string)];
    }
    throw new HostsConfigError(file, `"client" entries must be a path or a [cert, key] pair`);
  });
}

/** `header`: a table of header names to a value or a list of values. */
function hostHeaders(file: string, hv: TomlValue | undefined): Record<string, string[]> {
  if (hv === undefined) return {};
  if (!isTable(hv)) throw new HostsConfigError(file, `"header" must be a table`);
  return Object.fromEntries(Object.entries(hv).map(([k, v]) => [k, strings(file, `header.${k}`, v)]));
}

/**
 * Turns one parsed hosts.toml into the ordered endpoint list: `[host."…"]` entries in file order, then
 * the `server` (or the default upstream when there is none).
 *
 * @example
 * ```ts
 * const hosts = hostsFromToml("docker.io", 'server = "https://registry-1.docker.io"\n[host."http://127.0.0.1:5000"]\ncapabilities = ["pull", "resolve"]\n');
 * hosts.map((h) => `${h.scheme}://${h.host}`); // ["http://127.0.0.1:5000", "https://registry-1.docker.io"]
 * ```
 */
export function hostsFromToml(
  registry: string,
  text: string,
  file = "hosts.toml",
  baseDir = ".",
): RegistryHost[] {
  let doc: TomlTable;
  try {
    doc = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) throw new HostsConfigError(file, tomlProblem(e, text));
    throw e;
  }
  const out: RegistryHost[] = [];
  const hosts = doc.host;
  if (hosts !== undefined) {
    if (!isTable(hosts)) {
      throw new HostsConfigError(file, `"host" must be a table`);
    }
    for (const [url, t] of Object.entries(hosts)) {
      if (!isTable(t)) {
        throw new HostsConfigError(file, `[host.${JSON.stringify(url)}] must be a table`);
      }
      out.push(hostEntry(file, baseDir, registry, url, t));
    }
  }
  if (typeof doc.server === "string") {
    // The top-level keys (capabilities, ca, skip_verify, header, ...) belong to the server.
    const { host: _h, server, ...rest } = doc;
    out.push(hostEntry(file, baseDir, registry, server as string, rest));
  } else if (doc.server !== undefined) {
    throw new HostsConfigError(file, `"server" must be a URL string`);
  } else {
    out.push(defaultHost(registry));
  }
  return out;
}

async function readIfExists(path: string, hostsDir: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return undefined;
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new HostsConfigError(
        path,
        `cannot be read (${
          (e as Error).name
        }); the driver may read ${hostsDir} only when it is among its allowed paths ` +
          `(add it to CONTAINERD_DRIVER_EXTRA_PATHS in the Nomad agent's environment)`,
      );
    }
    throw e;
  }
}

async function crtFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".crt")) out.push(`${dir}/${e.name}`);
    }
  } catch {
    return [];
  }
  return out.sort();
}

/**
 * The endpoints to try for `registry` (a reference's domain): from `<hostsDir>/<registry>/hosts.toml`,
 * else `<hostsDir>/_default/hosts.toml`, else the default (with `*.crt` CAs from the host's directory).
 * An empty `hostsDir` means defaults only.
 *
 * @example
 * ```ts ignore
 * const hosts = await resolveHosts("/etc/containerd/certs.d", "docker.io");
 * ```
 */
export async function resolveHosts(hostsDir: string, registry: string): Promise<RegistryHost[]> {
  if (!hostsDir) return [defaultHost(registry)];
  const dir = `${hostsDir.replace(/\/+$/, "")}/${registry}`;
  for (const d of [dir, `${hostsDir.replace(/\/+$/, "")}/_default`]) {
    const file = `${d}/hosts.toml`;
    const text = await readIfExists(file, hostsDir);
    if (text !== undefined) return hostsFromToml(registry, text, file, d);
  }
  return [defaultHost(registry, await crtFiles(dir))];
}

/**
 * The base URL of an endpoint's API, e.g. `http://127.0.0.1:5000/v2`.
 *
 * @example
 * ```ts
 * apiBase(defaultHost("127.0.0.1:5000")); // "http://127.0.0.1:5000/v2"
 * ```
 */
export function apiBase(h: RegistryHost): string {
  return `${h.scheme}://${h.host}${h.path}`;
}
