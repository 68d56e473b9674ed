/**
 * Serves the playground on 127.0.0.1: web/index.html, the page's bundle (dist/web/app.js, written by
 * `deno task playground` with `deno bundle --platform browser` before this starts), wasm/*.wasm and the
 * HCL parser's WASM (dist/web/hcl2json.wasm.gz, copied there by web/vendor.ts).
 * Port: $CDRV_PLAYGROUND_PORT, else 8787 (0 picks a free one). Prints the URL on stdout.
 *
 *   deno task playground
 *
 * Needs only --allow-net=127.0.0.1, --allow-read of web/, wasm/ and dist/web/, --allow-env of the port.
 *
 * @module
 */
const root = new URL("../", import.meta.url);
const FILES: Record<string, [string, string, string?]> = {
  "/": ["web/index.html", "text/html; charset=utf-8"],
  "/index.html": ["web/index.html", "text/html; charset=utf-8"],
  "/app.js": ["dist/web/app.js", "text/javascript; charset=utf-8"],
  "/wasm/stats.wasm": ["wasm/stats.wasm", "application/wasm"],
  "/wasm/imageref.wasm": ["wasm/imageref.wasm", "application/wasm"],
  "/wasm/seccomp.wasm": ["wasm/seccomp.wasm", "application/wasm"],
  // HashiCorp's HCL parser, copied from npm @cdktf/hcl2json by web/vendor.ts; the browser gunzips it
  "/hcl2json.wasm": ["dist/web/hcl2json.wasm.gz", "application/wasm", "gzip"],
};

const port = Number(Deno.env.get("CDRV_PLAYGROUND_PORT") ?? "8787");
Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) => console.log(`playground: http://127.0.0.1:${port}/`),
}, async (req) => {
  const path = new URL(req.url).pathname;
  const f = FILES[path];
  if (!f || (req.method !== "GET" && req.method !== "HEAD")) {
    return new Response("not found\n", { status: 404 });
  }
  try {
    const body = await Deno.readFile(new URL(f[0], root));
    return new Response(req.method === "HEAD" ? null : body, {
      headers: {
        "content-type": f[1],
        "cache-control": "no-store",
        ...(f[2] ? { "content-encoding": f[2] } : {}),
      },
    });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return new Response(`${f[0]} is missing; run \`deno task playground\`\n`, { status: 404 });
    }
    throw e;
  }
});
