/**
 * Copies what the playground serves from npm packages into dist/web/: hcl2json's gzipped WASM (HashiCorp's
 * HCL parser), found in Deno's npm cache through `deno info --json web/hcl.ts`. Run by
 * `deno task playground` and the browser test before web/serve.ts starts.
 *
 *   deno run --allow-run --allow-read --allow-write=dist/web web/vendor.ts
 *
 * @module
 */

/** The package the playground's HCL parser comes from (its version is deno.json's). */
export const HCL2JSON = "@cdktf/hcl2json";

/**
 * The directory of `@cdktf/hcl2json` in Deno's npm cache (downloaded when missing).
 *
 * @example
 * ```ts ignore
 * const gz = await Deno.readFile(`${await hcl2jsonDir()}/main.wasm.gz`);
 * ```
 */
export async function hcl2jsonDir(): Promise<string> {
  const hcl = new URL("./hcl.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", hcl], stderr: "inherit" })
    .output();
  if (out.code !== 0) throw new Error(`deno info --json ${hcl} failed`);
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    npmPackages?: Record<string, { name: string; localPath?: string }>;
  };
  const pkg = Object.values(info.npmPackages ?? {}).find((p) => p.name === HCL2JSON);
  if (!pkg?.localPath) throw new Error(`deno info does not list ${HCL2JSON} for ${hcl}`);
  return pkg.localPath;
}

/**
 * hcl2json's `main.wasm`, decompressed (for Deno: tests and tools).
 *
 * @example
 * ```ts ignore
 * await loadHcl(await hcl2jsonWasm());
 * ```
 */
export async function hcl2jsonWasm(): Promise<ArrayBuffer> {
  const gz = await Deno.readFile(`${await hcl2jsonDir()}/main.wasm.gz`);
  return await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip")))
    .arrayBuffer();
}

if (import.meta.main) {
  const dest = new URL("../dist/web/", import.meta.url);
  await Deno.mkdir(dest, { recursive: true });
  await Deno.copyFile(`${await hcl2jsonDir()}/main.wasm.gz`, new URL("hcl2json.wasm.gz", dest));
}
