/**
 * Image references through the WASM module (assembly/imageref): the same signatures, results and errors
 * as src/image/reference.ts, which stays as the reference for tests and benchmarks.
 *
 * ABI: the reference's UTF-8 bytes are written into the module's memory (ASCII with a plain loop,
 * anything else with TextEncoder.encodeInto); `parse` returns an error code and fills 16 i32 that locate
 * each part as a slice of "docker.io/library/" plus a slice of the input string, so the result strings
 * are String#slice of the input (no decoding).
 *
 * @module
 */
import { formatReference, type ImageRef, InvalidReferenceError } from "./reference.ts";
import { wasmInstance } from "../wasm/load.ts";

interface ImagerefExports {
  memory: WebAssembly.Memory;
  input(len: number): number;
  result(): number;
  parse(len: number): number;
  changesWhenLowercased(cp: number): number;
}

const PREFIX = "docker.io/library/";
const DEFAULT_TAG = "latest";
const DIGEST_TAG_WANT = 9; // result slot reused for ERR_DIGEST_LENGTH

// Messages by error code (assembly/imageref ERR_*); the functions get the result slots and the input.
const MESSAGES: ((r: Int32Array, s: string) => string)[] = [
  () => "",
  () => "repository name must have at least one component",
  () => "cannot specify 64-byte hexadecimal strings as a repository name",
  (r, s) => `repository name ${JSON.stringify(piece(r, 1, s))} must be lowercase`,
  () => "repository name must be lowercase",
  () => "invalid reference format",
  () => "repository name must not be more than 255 characters",
  () => "invalid digest format",
  (r, s) => `unsupported digest algorithm ${JSON.stringify(piece(r, 1, s))}`,
  () => "invalid checksum digest format",
  (r, s) => `invalid checksum digest length (${piece(r, 1, s)} needs ${r[DIGEST_TAG_WANT]} hex characters)`,
];

let bound: WebAssembly.Instance | undefined;
let ex: ImagerefExports;
let res: Int32Array;
let mem: Uint8Array;
let encoder: TextEncoder | undefined;

function bind(): void {
  const inst = wasmInstance("imageref");
  if (inst === bound) return;
  ex = inst.exports as unknown as ImagerefExports;
  res = new Int32Array(ex.memory.buffer, ex.result(), 16);
  mem = new Uint8Array(ex.memory.buffer);
  bound = inst;
}

/** A part: PREFIX[r[i], r[i+1]) + s[r[i+2], r[i+3]). */
function piece(r: Int32Array, i: number, s: string): string {
  const tail = s.slice(r[i + 2], r[i + 3]);
  return r[i] === r[i + 1] ? tail : PREFIX.slice(r[i], r[i + 1]) + tail;
}

/** Writes the UTF-8 of `s` into the module's input area and returns its byte length. */
function writeInput(s: string): number {
  const n = s.length;
  // Room for the worst case (3 bytes per UTF-16 unit); memory may grow, then views are renewed.
  const ptr = ex.input(n * 3);
  if (mem.buffer !== ex.memory.buffer) {
    mem = new Uint8Array(ex.memory.buffer);
    res = new Int32Array(ex.memory.buffer, ex.result(), 16);
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      encoder ??= new TextEncoder();
      return i + encoder.encodeInto(s.slice(i), mem.subarray(ptr + i, ptr + n * 3)).written;
    }
    mem[ptr + i] = c;
  }
  return n;
}

/** Runs the module on `input`: 0 or an error code; the result slots are in `res`. */
function run(input: string): number {
  bind();
  return ex.parse(writeInput(input));
}

/**
 * {@linkcode parseReference} by the WASM module: parses and normalizes an image reference, or throws
 * {@linkcode InvalidReferenceError} with the same reason.
 *
 * @example
 * ```ts
 * parseReferenceWasm("busybox"); // { domain: "docker.io", path: "library/busybox", tag: "latest" }
 * ```
 */
export function parseReferenceWasm(input: string): ImageRef {
  const code = run(input);
  const r = res;
  if (code !== 0) {
    const msg = MESSAGES[code];
    throw new InvalidReferenceError(input, msg ? msg(r, input) : `error ${code}`);
  }
  const domain = piece(r, 1, input);
  const path = piece(r, 5, input);
  if (r[12] === 1) return { domain, path, digest: input.slice(r[13], r[14]) };
  return { domain, path, tag: r[9] === 1 ? DEFAULT_TAG : input.slice(r[10], r[11]) };
}

/**
 * {@linkcode normalizeReference} by the WASM module: `domain/path:tag` or `domain/path@digest`.
 *
 * @example
 * ```ts
 * normalizeReferenceWasm("docker://redis"); // "docker.io/library/redis:latest"
 * ```
 */
export function normalizeReferenceWasm(input: string): string {
  return formatReference(parseReferenceWasm(input));
}

/**
 * Whether String#toLowerCase changes the code point, by the module's generated table (tests compare it
 * with the engine's).
 *
 * @example
 * ```ts
 * changesWhenLowercasedWasm(0x212a); // true (KELVIN SIGN → "k")
 * ```
 */
export function changesWhenLowercasedWasm(cp: number): boolean {
  bind();
  return ex.changesWhenLowercased(cp) !== 0;
}
