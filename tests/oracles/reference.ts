/**
 * Test oracle for src/image/reference.ts: image references parsed by the distribution/reference grammar
 * with regular expressions, in plain TypeScript, as the WASM module (assembly/imageref) must parse them.
 * The differential tests compare the two on fixtures and on arbitrary strings. Not used by the plugin.
 *
 * ```
 * reference   := name [ ":" tag ] [ "@" digest ]
 * name        := [domain "/"] path-component ["/" path-component]*
 * domain      := host [":" port]            host := domain-name | "[" IPv6 "]"
 * path-comp   := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 * tag         := [\w][\w.-]{0,127}
 * digest      := algorithm ":" hex          (sha256: 64, sha384: 96, sha512: 128 lowercase hex)
 * ```
 *
 * @module
 */
import { formatReference, type ImageRef, InvalidReferenceError } from "../../src/image/reference.ts";

const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_PREFIX = "library/";
const DEFAULT_TAG = "latest";
const PATH_MAX = 255;

const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[[a-fA-F0-9:]+\\]";
const DOMAIN = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const PATH = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;

/** name (domain and path groups), tag, digest */
const REFERENCE_RE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Checks a digest string the way go-digest does: a known algorithm and lowercase hex of its length.
 * Returns an error reason, or undefined when valid.
 *
 * @example
 * ```ts ignore
 * digestProblem("sha256:" + "a".repeat(64)); // undefined
 * digestProblem("md5:" + "a".repeat(32)); // "unsupported digest algorithm \"md5\""
 * ```
 */
export function digestProblem(digest: string): string | undefined {
  const i = digest.indexOf(":");
  if (i <= 0) return "invalid digest format";
  const alg = digest.slice(0, i);
  const hex = digest.slice(i + 1);
  const want = DIGEST_LENGTHS[alg];
  if (want === undefined) {
    return /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/.test(alg)
      ? `unsupported digest algorithm ${JSON.stringify(alg)}`
      : "invalid digest format";
  }
  if (!/^[a-f0-9]+$/.test(hex)) return "invalid checksum digest format";
  if (hex.length !== want) return `invalid checksum digest length (${alg} needs ${want} hex characters)`;
  return undefined;
}

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf("/");
  if (i < 0) return [DEFAULT_DOMAIN, OFFICIAL_PREFIX + name];
  const first = name.slice(0, i);
  const rest = name.slice(i + 1);
  let domain: string;
  let remote: string;
  if (first === "localhost") [domain, remote] = [first, rest];
  else if (first === LEGACY_DEFAULT_DOMAIN) [domain, remote] = [DEFAULT_DOMAIN, rest];
  else if (/[.:]/.test(first)) [domain, remote] = [first, rest];
  else if (first.toLowerCase() !== first) [domain, remote] = [first, rest];
  else [domain, remote] = [DEFAULT_DOMAIN, name];
  if (domain === DEFAULT_DOMAIN && !remote.includes("/")) remote = OFFICIAL_PREFIX + remote;
  return [domain, remote];
}

/**
 * The oracle's parse: parses and normalizes an image reference. Throws {@linkcode InvalidReferenceError} with the reason
 * (empty name, uppercase repository, bad format, name too long, bad digest, 64-hex identifier).
 *
 * @example
 * ```ts ignore
 * parseReferenceOracle("busybox");
 * // { domain: "docker.io", path: "library/busybox", tag: "latest" }
 * parseReferenceOracle("127.0.0.1:5000/cdrv/busybox:1");
 * // { domain: "127.0.0.1:5000", path: "cdrv/busybox", tag: "1" }
 * ```
 */
export function parseReferenceOracle(input: string): ImageRef {
  let s = input;
  if (s.startsWith("docker://")) s = s.slice("docker://".length);
  if (s === "") throw new InvalidReferenceError(input, "repository name must have at least one component");
  if (IDENTIFIER_RE.test(s)) {
    throw new InvalidReferenceError(input, "cannot specify 64-byte hexadecimal strings as a repository name");
  }
  const [domain, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(":");
  const remote = tagSep >= 0 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new InvalidReferenceError(input, `repository name ${JSON.stringify(remote)} must be lowercase`);
  }
  const full = `${domain}/${remainder}`;
  const m = REFERENCE_RE.exec(full);
  if (!m || m[1] === undefined) {
    const lower = full.toLowerCase();
    if (lower !== full && REFERENCE_RE.test(lower)) {
      throw new InvalidReferenceError(input, "repository name must be lowercase");
    }
    throw new InvalidReferenceError(input, "invalid reference format");
  }
  const [, dom, path, tag, digest] = m;
  if (path.length > PATH_MAX) {
    throw new InvalidReferenceError(input, `repository name must not be more than ${PATH_MAX} characters`);
  }
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem) throw new InvalidReferenceError(input, problem);
    // Tagged and digested: only the digest counts (ParseDockerRef).
    return { domain: dom, path, digest };
  }
  return { domain: dom, path, tag: tag ?? DEFAULT_TAG };
}

/**
 * The oracle's normalization: `domain/path:tag` or `domain/path@digest`.
 *
 * @example
 * ```ts ignore
 * normalizeReferenceOracle("docker://redis"); // "docker.io/library/redis:latest"
 * ```
 */
export function normalizeReferenceOracle(input: string): string {
  return formatReference(parseReferenceOracle(input));
}
