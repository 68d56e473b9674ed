import { assert, assertEquals } from "../../tests/harness/assert.ts";
import { EMBEDDED } from "./embedded.ts";
import { embeddedWasm, WASM_MODULES, wasmInstance, wasmOrigin } from "./load.ts";

async function sha256(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return [...d].map((x) => x.toString(16).padStart(2, "0")).join("");
}

Deno.test("load: the embedded bytes are wasm/*.wasm, byte for byte", async () => {
  for (const name of WASM_MODULES) {
    const file = await Deno.readFile(new URL(`../../wasm/${name}.wasm`, import.meta.url));
    const bytes = embeddedWasm(name);
    assertEquals(bytes, file, `${name}: run scripts/build-wasm.sh`);
    assertEquals(await sha256(bytes), EMBEDDED[name].sha256);
  }
});

Deno.test("load: modules import nothing, export memory, and instantiate synchronously from the embedded bytes", () => {
  for (const name of WASM_MODULES) {
    const mod = new WebAssembly.Module(embeddedWasm(name));
    assertEquals(WebAssembly.Module.imports(mod), [], `${name} imports`);
    assert(WebAssembly.Module.exports(mod).some((e) => e.name === "memory" && e.kind === "memory"));
    const inst = wasmInstance(name);
    assert(inst === wasmInstance(name), "one instance per module");
    assertEquals(wasmOrigin(name)?.source, "embedded");
  }
});
