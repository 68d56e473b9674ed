/**
 * A registry v2 (OCI distribution) client for pulls: manifests by tag or digest and blobs, over the
 * endpoints from hosts.toml in order, with anonymous bearer tokens, basic auth, and bearer tokens
 * fetched with credentials (or a helper's identity token) from the realm a `WWW-Authenticate`
 * challenge names.
 *
 * Credentials are resolved lazily, only when a registry answers 401, so a credential helper is not run
 * for registries that do not need it. Tokens are cached per endpoint and registered as secrets.
 *
 * @module
 */
import { concatBytes } from "../util/bytes.ts";
import { parseWwwAuthenticate } from "./challenge.ts";
import type { Credentials } from "./auth.ts";
import { PullError } from "./errors.ts";
import { apiBase, type RegistryHost } from "./hosts.ts";
import type { ImageRef } from "./reference.ts";
import { type HttpResponse, type Transport, transportFor } from "./transport.ts";
import { registerSecret } from "../log/hclog.ts";
import { PLUGIN_NAME, PLUGIN_VERSION } from "../version.ts";

/** Media types of manifests and indexes we accept, most specific first. */
export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

const ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
  "*/*",
]
  .join(", ");
/** containerd's limit for manifests and indexes. */
const MANIFEST_LIMIT = 4 * 1024 * 1024;

/** A manifest or index as fetched. */
export interface FetchedManifest {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Uint8Array;
  /** The endpoint that served it. */
  host: RegistryHost;
}

/** Options of {@linkcode RegistryClient}. */
export interface RegistryClientOpts {
  /** Called at most once, on the first 401, to get credentials (task > plugin > helper). */
  credentials: () => Promise<Credentials | undefined>;
  signal?: AbortSignal;
  /** Normalized reference for error messages. */
  refName: string;
}

interface HostState {
  transport?: Transport;
  /** Authorization header value to send, once known. */
  authorization?: string;
}

function basicValue(c: Credentials): string {
  const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  const v = btoa(bin);
  registerSecret(v);
  return v;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const h = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return "sha256:" + Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join("");
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const parts = [err?.message ?? String(e)];
  let c = err?.cause as (Error & { cause?: unknown }) | undefined;
  while (c && parts.length < 4) {
    parts.push(c.message ?? String(c));
    c = c.cause as (Error & { cause?: unknown }) | undefined;
  }
  return parts.join(": ").replace(/\s+/g, " ").slice(0, 300);
}

/** Reads a body up to `limit` bytes. */
async function readAll(res: HttpResponse, limit: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of res.body) {
    n += c.length;
    if (n > limit) throw new Error(`response larger than ${limit} bytes`);
    parts.push(c);
  }
  return concatBytes(parts);
}

/** The registry's error text from a JSON error body, if any. */
async function errorText(res: HttpResponse): Promise<string> {
  let body: string;
  try {
    body = new TextDecoder().decode(await readAll(res, 64 * 1024)).trim();
  } catch {
    return "";
  }
  try {
    const j = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    const e = j.errors?.[0];
    if (e) return `${e.code ?? ""}${e.message ? ` (${e.message})` : ""}`.trim();
  } catch { /* not JSON */ }
  return body.replace(/\s+/g, " ").slice(0, 200);
}

/**
 * Pull-side registry client for one repository.
 *
 * @example
 * ```ts ignore
 * const rc = new RegistryClient(parseReference("127.0.0.1:5000/cdrv/busybox:1"), hosts, { credentials: async () => undefined, refName });
 * const root = await rc.resolve();
 * const body = await rc.fetchBlob(layer);
 * rc.close();
 * ```
 */
export class RegistryClient {
  readonly #state = new Map<RegistryHost, HostState>();
  #creds: Promise<Credentials | undefined> | undefined;
  /** Endpoint that resolved the reference; blobs are fetched there first. */
  #preferred: RegistryHost | undefined;

  constructor(readonly ref: ImageRef, readonly hosts: RegistryHost[], readonly opts: RegistryClientOpts) {}

  /** Display name of an endpoint for errors: the registry, plus the mirror when one was used. */
  #where(h: RegistryHost): string {
    const url = `${h.scheme}://${h.host}`;
    return h.host === this.ref.domain ? url : `${this.ref.domain} (via ${url})`;
  }

  #fail(kind: PullError["kind"], h: RegistryHost | undefined, detail: string, cause?: unknown): PullError {
    return new PullError(kind, this.opts.refName, h ? this.#where(h) : this.ref.domain, detail, { cause });
  }

  #url(h: RegistryHost, suffix: string): string {
    let u = `${apiBase(h)}/${this.ref.path}/${suffix}`;
    if (h.host !== this.ref.domain) u += `?ns=${encodeURIComponent(this.ref.domain)}`;
    return u;
  }

  #credentials(): Promise<Credentials | undefined> {
    this.#creds ??= this.opts.credentials();
    return this.#creds;
  }

  async #transport(h: HostState, host: RegistryHost): Promise<Transport> {
    if (!h.transport) {
      try {
        h.transport = await transportFor(host);
      } catch (e) {
        throw this.#fail(
          "config",
          host,
          `cannot set up TLS (ca / client certificate files): ${describe(e)}${
            e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied
              ? "; the driver may only read files under its allowed paths (add the directory to CONTAINERD_DRIVER_EXTRA_PATHS)"
              : ""
          }`,
          e,
        );
      }
    }
    return h.transport;
  }

  /** One request with auth: answers a 401 challenge once, then gives up with an auth error. */
  async #request(
    host: RegistryHost,
    url: string,
    method: "GET" | "HEAD",
    accept?: string,
  ): Promise<HttpResponse> {
    let st = this.#state.get(host);
    if (!st) this.#state.set(host, st = {});
    const t = await this.#transport(st, host);
    const send = async () => {
      const headers: Record<string, string> = { "User-Agent": `${PLUGIN_NAME}/${PLUGIN_VERSION}` };
      for (const [k, v] of Object.entries(host.headers)) headers[k] = v.join(", ");
      if (accept) headers["Accept"] = accept;
      if (st.authorization) headers["Authorization"] = st.authorization;
      try {
        return await t.request(url, { method, headers, signal: this.opts.signal });
      } catch (e) {
        if (this.opts.signal?.aborted) throw e;
        const msg = describe(e);
        const tls = /certificate|tls|ssl|handshake|UnknownIssuer/i.test(msg);
        throw this.#fail(
          "unreachable",
          host,
          tls ? `TLS failed (${msg}); for a private CA set "ca" in its hosts.toml` : `cannot connect: ${msg}`,
          e,
        );
      }
    };
    let res = await send();
    if (res.status !== 401) return res;
    const challenge = res.headers.get("www-authenticate") ?? "";
    await res.body?.cancel();
    await this.#authorize(host, st, challenge, st.authorization?.startsWith("Basic ") ?? false);
    res = await send();
    if (res.status === 401) {
      await res.body?.cancel();
      const creds = await this.#credentials();
      throw this.#fail(
        "auth",
        host,
        creds
          ? `authentication failed: wrong username or password (user ${JSON.stringify(creds.username)})`
          : "authentication required: no credentials given",
      );
    }
    return res;
  }

  async #authorize(host: RegistryHost, st: HostState, header: string, retried: boolean): Promise<void> {
    const challenges = parseWwwAuthenticate(header);
    const bearer = challenges.find((c) => c.scheme === "bearer");
    const basic = challenges.find((c) => c.scheme === "basic");
    let creds: Credentials | undefined;
    try {
      creds = await this.#credentials();
    } catch (e) {
      const perm = (e as { permission?: boolean }).permission === true;
      throw this.#fail(perm ? "permission" : "auth", host, describe(e), e);
    }
    if (bearer) {
      st.authorization = `Bearer ${await this.#token(host, bearer.params, creds)}`;
      return;
    }
    if (basic) {
      if (!creds) {
        throw this.#fail("auth", host, "authentication required: the registry wants a username and password");
      }
      if (retried) {
        throw this.#fail(
          "auth",
          host,
          `authentication failed: wrong username or password (user ${JSON.stringify(creds.username)})`,
        );
      }
      st.authorization = `Basic ${basicValue(creds)}`;
      return;
    }
    throw this.#fail(
      "auth",
      host,
      `authentication required, with an unsupported challenge ${JSON.stringify(header.slice(0, 100))}`,
    );
  }

  /** A bearer token from the challenge's realm, anonymous or with `creds` (registered as a secret). */
  async #token(
    host: RegistryHost,
    params: Record<string, string>,
    creds: Credentials | undefined,
  ): Promise<string> {
    const realm = params.realm;
    if (!realm) throw this.#fail("auth", host, "the registry's bearer challenge names no realm");
    const where = URL.canParse(realm) ? new URL(realm).host : realm;
    let res: HttpResponse;
    try {
      res = await this.#tokenRequest(host, params, creds);
    } catch (e) {
      if (this.opts.signal?.aborted) throw e;
      throw this.#fail("unreachable", host, `cannot reach the token service ${where}: ${describe(e)}`, e);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      const user = creds && JSON.stringify(creds.username);
      throw this.#fail(
        "auth",
        host,
        creds
          ? `authentication failed at ${where}: wrong username or password (user ${user})`
          : `the token service ${where} refused anonymous access`,
      );
    }
    if (res.status !== 200) {
      throw this.#fail(
        "auth",
        host,
        `the token service ${where} answered ${res.status} ${await errorText(res)}`,
      );
    }
    let body: { token?: string; access_token?: string };
    try {
      body = JSON.parse(new TextDecoder().decode(await readAll(res, 1024 * 1024)));
    } catch (e) {
      throw this.#fail("auth", host, `the token service ${where} sent no JSON`, e);
    }
    const token = body.token || body.access_token;
    if (!token) throw this.#fail("auth", host, `the token service ${where} sent no token`);
    registerSecret(token);
    return token;
  }

  /**
   * The token request: an identity token from a credential helper as an OAuth2 refresh-token grant (POST),
   * else a GET with the service and scope, and Basic credentials when there are any.
   */
  async #tokenRequest(
    host: RegistryHost,
    params: Record<string, string>,
    creds: Credentials | undefined,
  ): Promise<HttpResponse> {
    const scope = params.scope || `repository:${this.ref.path}:pull`;
    const t = await this.#transport(this.#state.get(host)!, host);
    if (creds && creds.username === "<token>") {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: creds.password,
        service: params.service ?? "",
        scope,
        client_id: PLUGIN_NAME,
      });
      return await t.request(params.realm, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: form.toString(),
        signal: this.opts.signal,
      });
    }
    const u = new URL(params.realm);
    if (params.service) u.searchParams.set("service", params.service);
    u.searchParams.set("scope", scope);
    const headers: Record<string, string> = creds ? { Authorization: `Basic ${basicValue(creds)}` } : {};
    return await t.request(u.href, { method: "GET", headers, signal: this.opts.signal });
  }

  /** Endpoints with a capability, the preferred one first. */
  #candidates(cap: "pull" | "resolve"): RegistryHost[] {
    const hs = this.hosts.filter((h) => h.capabilities[cap]);
    if (this.#preferred && hs.includes(this.#preferred)) {
      return [
        this.#preferred,
        ...hs.filter((h) => h !== this.#preferred),
      ];
    }
    return hs;
  }

  /** Tries endpoints in order; a connection failure or 404 moves to the next, other errors stop. */
  async #tryHosts<T>(cap: "pull" | "resolve", what: string, fn: (h: RegistryHost) => Promise<T>): Promise<T> {
    const hosts = this.#candidates(cap);
    if (hosts.length === 0) {
      throw this.#fail("config", undefined, `no registry host in hosts.toml has the "${cap}" capability`);
    }
    let firstErr: PullError | undefined;
    for (const h of hosts) {
      try {
        return await fn(h);
      } catch (e) {
        if (!(e instanceof PullError)) throw e;
        if (e.kind !== "unreachable" && e.kind !== "not_found" && e.kind !== "registry") throw e;
        // Keep the most telling error: a 404 says more than a refused connection to a mirror.
        if (!firstErr || (firstErr.kind === "unreachable" && e.kind !== "unreachable")) firstErr = e;
      }
    }
    throw firstErr ?? this.#fail("registry", undefined, `cannot fetch ${what}`);
  }

  async #manifest(h: RegistryHost, ref: string, expectDigest?: string): Promise<FetchedManifest> {
    const res = await this.#request(h, this.#url(h, `manifests/${ref}`), "GET", ACCEPT);
    if (res.status === 404) {
      const text = await errorText(res);
      throw this.#fail(
        "not_found",
        h,
        `image not found: manifest ${ref} does not exist${text ? ` (${text})` : ""}`,
      );
    }
    if (res.status === 403) {
      throw this.#fail("auth", h, `access denied to manifest ${ref}: ${await errorText(res)}`);
    }
    if (res.status !== 200) {
      const text = await errorText(res);
      const hint = h.scheme === "http" && /HTTP request to an HTTPS server/i.test(text)
        ? `; it speaks HTTPS: write ${this.ref.domain}/hosts.toml in the registry hosts dir with server = "https://${h.host}"`
        : "";
      throw this.#fail("registry", h, `manifest ${ref}: unexpected HTTP ${res.status} ${text}${hint}`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await readAll(res, MANIFEST_LIMIT);
    } catch (e) {
      if (this.opts.signal?.aborted) throw e;
      throw this.#fail("registry", h, `manifest ${ref}: ${describe(e)}`, e);
    }
    const digest = await sha256(bytes);
    const want = expectDigest ?? res.headers.get("docker-content-digest") ?? undefined;
    if (want && want.startsWith("sha256:") && want !== digest) {
      throw this.#fail(
        "digest",
        h,
        `manifest ${ref} does not match its digest: expected ${want}, got ${digest}`,
      );
    }
    let mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
    if (!Object.values(MEDIA_TYPES).includes(mediaType as typeof MEDIA_TYPES.ociIndex)) {
      mediaType = sniffMediaType(bytes) ?? mediaType;
    }
    if (!Object.values(MEDIA_TYPES).includes(mediaType as typeof MEDIA_TYPES.ociIndex)) {
      throw this.#fail(
        "registry",
        h,
        `manifest ${ref} has unsupported media type ${
          JSON.stringify(mediaType)
        } (Docker schema 1 images are not supported)`,
      );
    }
    this.#preferred ??= h;
    return { mediaType, digest, size: bytes.length, bytes, host: h };
  }

  /** Resolves the reference (tag or digest) to its root manifest or index. */
  resolve(): Promise<FetchedManifest> {
    const r = this.ref.digest ?? this.ref.tag ?? "latest";
    return this.#tryHosts(
      this.ref.digest ? "pull" : "resolve",
      `manifest ${r}`,
      (h) => this.#manifest(h, r, this.ref.digest),
    );
  }

  /** Fetches a manifest by digest (a child of an index), verified. */
  fetchManifest(digest: string): Promise<FetchedManifest> {
    return this.#tryHosts("pull", `manifest ${digest}`, (h) => this.#manifest(h, digest, digest));
  }

  /** Opens a blob's body stream. The caller verifies the digest while consuming it. */
  fetchBlob(desc: { digest: string; size: number }): Promise<ReadableStream<Uint8Array>> {
    return this.#tryHosts("pull", `blob ${desc.digest}`, async (h) => {
      const res = await this.#request(h, this.#url(h, `blobs/${desc.digest}`), "GET");
      if (res.status === 404) throw this.#fail("not_found", h, `blob ${desc.digest} not found`);
      if (res.status === 403) throw this.#fail("auth", h, `access denied to blob ${desc.digest}`);
      if (res.status !== 200) {
        throw this.#fail(
          "registry",
          h,
          `blob ${desc.digest}: unexpected HTTP ${res.status} ${await errorText(res)}`,
        );
      }
      if (!res.body) throw this.#fail("registry", h, `blob ${desc.digest}: empty response`);
      return res.body;
    });
  }

  /** The endpoint blobs come from (for messages). */
  where(): string {
    return this.#preferred ? this.#where(this.#preferred) : this.ref.domain;
  }

  /** Closes HTTP clients. */
  close(): void {
    for (const s of this.#state.values()) s.transport?.close();
    this.#state.clear();
  }
}

/**
 * Media type from a manifest's own fields when the registry sent none.
 *
 * @example
 * ```ts
 * sniffMediaType(new TextEncoder().encode('{"manifests":[]}')); // "application/vnd.oci.image.index.v1+json"
 * ```
 */
export function sniffMediaType(bytes: Uint8Array): string | undefined {
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as {
      mediaType?: string;
      manifests?: unknown;
      config?: unknown;
    };
    if (typeof j.mediaType === "string" && j.mediaType) return j.mediaType;
    if (Array.isArray(j.manifests)) return MEDIA_TYPES.ociIndex;
    if (j.config) return MEDIA_TYPES.ociManifest;
  } catch { /* not JSON */ }
  return undefined;
}
