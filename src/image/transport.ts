/**
 * HTTP(S) to registries inside Deno's sandbox (`--allow-net`, no `--allow-sys`, no unstable flags).
 *
 * - Default and custom CAs: `fetch` with `Deno.createHttpClient({ caCerts, cert, key })` (stable in
 *   Deno 2.x, needs no extra flag).
 * - `skip_verify = true`: `createHttpClient` has no option to skip verification, so those hosts go
 *   through `node:https` with `rejectUnauthorized: false`. Deno's node:https then wants `--allow-sys`
 *   and `--allow-env=NODE_USE_SYSTEM_CA` to load the system roots unless a `ca` list is given, so we
 *   pass `ca: []` (no roots needed when nothing is verified).
 *
 * @module
 */
import * as https from "node:https";
import type { RegistryHost } from "./hosts.ts";

/** A response with a streaming body. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** The final URL after redirects. */
  url: string;
}

/** What a request needs. */
export interface HttpRequest {
  method: "GET" | "HEAD" | "POST";
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** One way to talk HTTP to one registry endpoint. */
export interface Transport {
  request(url: string, req: HttpRequest): Promise<HttpResponse>;
  close(): void;
}

class FetchTransport implements Transport {
  constructor(readonly client?: Deno.HttpClient) {}
  async request(url: string, req: HttpRequest): Promise<HttpResponse> {
    const res = await fetch(url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
      redirect: "follow",
      client: this.client,
    });
    return { status: res.status, headers: res.headers, body: res.body, url: res.url || url };
  }
  close(): void {
    this.client?.close();
  }
}

class InsecureNodeTransport implements Transport {
  request(url: string, req: HttpRequest, redirects = 0): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const r = https.request(
        url,
        { method: req.method, headers: req.headers, ca: [], rejectUnauthorized: false, signal: req.signal },
        (res) => {
          const status = res.statusCode ?? 0;
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) { for (const x of v) headers.append(k, x); }
            else if (v !== undefined) headers.set(k, String(v));
          }
          const loc = headers.get("location");
          if ([301, 302, 303, 307, 308].includes(status) && loc && redirects < 10) {
            res.resume();
            const next = new URL(loc, url);
            const h = { ...req.headers };
            // Like fetch: credentials are not sent to another origin.
            if (next.origin !== new URL(url).origin) delete h["Authorization"];
            resolve(
              this.request(
                next.href,
                { ...req, headers: h, method: status === 303 ? "GET" : req.method },
                redirects + 1,
              ),
            );
            return;
          }
          const body = new ReadableStream<Uint8Array>({
            start(ctrl) {
              res.on("data", (c: Uint8Array) => {
                ctrl.enqueue(new Uint8Array(c));
                if ((ctrl.desiredSize ?? 1) <= 0) res.pause();
              });
              res.on("end", () => ctrl.close());
              res.on("error", (e: Error) => ctrl.error(e));
            },
            pull() {
              res.resume();
            },
            cancel() {
              res.destroy();
            },
          }, { highWaterMark: 16 });
          resolve({ status, headers, body: req.method === "HEAD" ? null : body, url });
        },
      );
      r.on("error", reject);
      if (req.body) r.write(req.body);
      r.end();
    });
  }
  close(): void {}
}

/**
 * The transport for one endpoint: plain fetch, fetch with extra CAs / a client certificate, or the
 * unverified node:https path for `skip_verify`.
 *
 * @example
 * ```ts ignore
 * const t = await transportFor(host);
 * const res = await t.request("https://127.0.0.1:5002/v2/", { method: "GET", headers: {} });
 * t.close();
 * ```
 */
export async function transportFor(host: RegistryHost): Promise<Transport> {
  if (host.scheme === "https" && host.skipVerify) return new InsecureNodeTransport();
  if (host.scheme === "http" || (host.ca.length === 0 && host.client.length === 0)) {
    return new FetchTransport();
  }
  const caCerts = await Promise.all(host.ca.map((p) => Deno.readTextFile(p)));
  if (host.client.length > 0) {
    const [certPath, keyPath] = host.client[0];
    const cert = await Deno.readTextFile(certPath);
    const key = keyPath ? await Deno.readTextFile(keyPath) : cert;
    return new FetchTransport(Deno.createHttpClient({ caCerts, cert, key }));
  }
  return new FetchTransport(Deno.createHttpClient({ caCerts }));
}
