/**
 * Image references: the distribution/reference grammar with Docker's normalization, parsed by the WASM
 * module assembly/imageref. This module is its only caller; tests/oracles/reference.ts is the plain-TS
 * oracle the differential tests compare it with.
 *
 * Normalization (what `docker pull` and containerd's `ParseDockerRef` do): a first component without
 * "." or ":" that is not "localhost" and is lowercase is not a domain, so the domain is `docker.io`;
 * `index.docker.io` becomes `docker.io`; one-component Docker Hub paths get `library/`; a reference
 * without tag or digest gets `:latest`; one with both keeps only the digest. A `docker://` transport
 * prefix (skopeo style) is accepted and dropped.
 *
 * ABI: the reference's UTF-8 bytes are written into the module's memory (ASCII with a plain loop,
 * anything else with TextEncoder.encodeInto); `parse` returns an error code and fills 16 i32 that locate
 * each part as a slice of "docker.io/library/" plus a slice of the input string, so the result strings
 * are String#slice of the input (no decoding).
 *
 * @module
 */
import { wasmInstance } from "../wasm/load.ts";

/** A parsed, normalized image reference. */
export interface ImageRef {
  /** Registry host with optional port, e.g. `docker.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  domain: string;
  /** Repository path, e.g. `library/busybox`. */
  path: string;
  /** Tag, absent when the reference is by digest only. */
  tag?: string;
  /** Digest, e.g. `sha256:…`. */
  digest?: string;
}

/** A reference that does not follow the grammar; the message says why. */
export class InvalidReferenceError extends Error {
  constructor(readonly ref: string, readonly reason: string) {
    super(`invalid image reference ${JSON.stringify(ref)}: ${reason}`);
    this.name = "InvalidReferenceError";
  }
}

interface ImagerefExports {
  memory: WebAssembly.Memory;
  input(len: number): number;
  result(): number;
  parse(len: number): number;
  changesWhenLowercased(cp: number): number;
}

const PREFIX = "docker.io/library/";
const DEFAULT_TAG = "latest";
const DEFAULT_DOMAIN = "docker.io";
const OFFICIAL_PREFIX = "library/";
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
 * Parses and normalizes an image reference. Throws {@linkcode InvalidReferenceError} with the reason
 * (empty name, uppercase repository, bad format, name too long, bad digest, 64-hex identifier).
 *
 * @example
 * ```ts
 * parseReference("busybox");
 * // { domain: "docker.io", path: "library/busybox", tag: "latest" }
 * parseReference("127.0.0.1:5000/cdrv/busybox:1");
 * // { domain: "127.0.0.1:5000", path: "cdrv/busybox", tag: "1" }
 * ```
 */
export function parseReference(input: string): ImageRef {
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
 * Parses and formats in one step: the name containerd stores the image under.
 *
 * @example
 * ```ts
 * normalizeReference("docker://redis"); // "docker.io/library/redis:latest"
 * ```
 */
export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}

/**
 * Whether String#toLowerCase changes the code point, by the module's generated table (tests compare it
 * with the engine's).
 *
 * @example
 * ```ts
 * changesWhenLowercased(0x212a); // true (KELVIN SIGN → "k")
 * ```
 */
export function changesWhenLowercased(cp: number): boolean {
  bind();
  return ex.changesWhenLowercased(cp) !== 0;
}

/**
 * The canonical string of a reference: `domain/path:tag` or `domain/path@digest`.
 *
 * @example
 * ```ts
 * formatReference({ domain: "docker.io", path: "library/redis", tag: "7" }); // "docker.io/library/redis:7"
 * ```
 */
export function formatReference(r: ImageRef): string {
  let s = `${r.domain}/${r.path}`;
  if (r.tag !== undefined) s += `:${r.tag}`;
  if (r.digest !== undefined) s += `@${r.digest}`;
  return s;
}

/**
 * The short form Docker shows: `docker.io/` and `library/` dropped.
 *
 * @example
 * ```ts
 * familiarReference(parseReference("busybox")); // "busybox:latest"
 * ```
 */
export function familiarReference(r: ImageRef): string {
  let path = r.path;
  let s: string;
  if (r.domain === DEFAULT_DOMAIN) {
    if (path.startsWith(OFFICIAL_PREFIX) && !path.slice(OFFICIAL_PREFIX.length).includes("/")) {
      path = path.slice(OFFICIAL_PREFIX.length);
    }
    s = path;
  } else {
    s = `${r.domain}/${path}`;
  }
  if (r.tag !== undefined) s += `:${r.tag}`;
  if (r.digest !== undefined) s += `@${r.digest}`;
  return s;
}
