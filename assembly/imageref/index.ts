// Image references: the AssemblyScript port of src/image/reference.ts (the reference: same grammar, same
// normalization, same error for the same input; keep the two in step).
//
// ABI (bytes and numbers only, nothing allocated per call):
//   ptr = input(len)   makes room for `len` input bytes (growing memory when needed) and returns where to
//                      write them: the UTF-8 of the reference string.
//   code = parse(len)  parses those bytes; 0 = valid, else an error code (ERR_* below).
//   result()           address of 16 i32 that describe the outcome (R_* below).
//
// The parts of a valid reference are all ASCII, and each is a "piece": a slice of the constant
// "docker.io/library/" followed by a slice of the input, so the caller builds JavaScript strings with
// String#slice on the string it already has, and no bytes are decoded. Input offsets are in UTF-16 code
// units of that string (equal to byte offsets when the input is ASCII, which every valid one is; for the
// "repository name ... must be lowercase" error the remote part is converted).

import { LOWER_RUN_COUNT, LOWER_RUNS } from "./lower";

// Error codes; src/image/reference_wasm.ts maps them to reference.ts's messages.
const OK: i32 = 0;
const ERR_EMPTY: i32 = 1; // repository name must have at least one component
const ERR_IDENTIFIER: i32 = 2; // cannot specify 64-byte hexadecimal strings as a repository name
const ERR_REMOTE_UPPER: i32 = 3; // repository name <remote piece> must be lowercase
const ERR_NAME_UPPER: i32 = 4; // repository name must be lowercase
const ERR_FORMAT: i32 = 5; // invalid reference format
const ERR_TOO_LONG: i32 = 6; // repository name must not be more than 255 characters
const ERR_DIGEST_FORMAT: i32 = 7; // invalid digest format
const ERR_DIGEST_ALG: i32 = 8; // unsupported digest algorithm <alg piece>
const ERR_DIGEST_HEX: i32 = 9; // invalid checksum digest format
const ERR_DIGEST_LENGTH: i32 = 10; // invalid checksum digest length (<alg piece> needs <R_WANT> hex characters)

// Result slots (i32). A piece is (prefix start, prefix end, input start, input end).
const R_DOMAIN: i32 = 1; // piece; for ERR_REMOTE_UPPER the remote, for digest errors the algorithm
const R_PATH: i32 = 5; // piece
const R_TAG_KIND: i32 = 9; // 0 none, 1 "latest", 2 input slice at R_TAG; for ERR_DIGEST_LENGTH: hex length wanted
const R_TAG: i32 = 10; // input start, end
const R_HAS_DIGEST: i32 = 12; // 0 / 1
const R_DIGEST: i32 = 13; // input start, end

const RES: usize = memory.data(64, 16);
const PATH_MAX: i32 = 255;

// "docker.io/library/" — the constant the pieces' prefixes slice.
const PREFIX: usize = memory.data<u8>([
  0x64, 0x6f, 0x63, 0x6b, 0x65, 0x72, 0x2e, 0x69, 0x6f, 0x2f, // docker.io/
  0x6c, 0x69, 0x62, 0x72, 0x61, 0x72, 0x79, 0x2f, // library/
]);
const PREFIX_DOMAIN: i32 = 9; // "docker.io"
const PREFIX_DOMAIN_SLASH: i32 = 10; // "docker.io/"
const PREFIX_LIBRARY: i32 = 18; // "docker.io/library/"
// "docker://", "localhost", "index.docker.io", "sha256", "sha384", "sha512"
const S_TRANSPORT: usize = memory.data<u8>([0x64, 0x6f, 0x63, 0x6b, 0x65, 0x72, 0x3a, 0x2f, 0x2f]);
const S_LOCALHOST: usize = memory.data<u8>([0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68, 0x6f, 0x73, 0x74]);
const S_INDEX: usize = memory.data<u8>([
  0x69, 0x6e, 0x64, 0x65, 0x78, 0x2e, 0x64, 0x6f, 0x63, 0x6b, 0x65, 0x72, 0x2e, 0x69, 0x6f,
]);
const S_SHA: usize = memory.data<u8>([0x73, 0x68, 0x61]);

// Working memory: input, the full name (prefix + input tail), its lowercase copy.
let inBase: usize = (__heap_base + 15) & ~(<usize>15);
let inCap: i32 = 0;
let fullBase: usize = 0;
let lowBase: usize = 0;

/** Makes room for `len` input bytes and returns their address. */
export function input(len: i32): usize {
  if (len > inCap) {
    const cap = len < 256 ? 256 : len;
    // input, full (input + 18 bytes of prefix), lowercase copy of full
    const need = inBase + <usize>(3 * cap + 64);
    const have = <usize>memory.size() << 16;
    if (need > have) {
      const pages = <i32>((need - have + 0xffff) >> 16);
      if (memory.grow(pages) < 0) unreachable();
    }
    inCap = cap;
    fullBase = inBase + <usize>cap;
    lowBase = fullBase + <usize>cap + 32;
  }
  return inBase;
}

/** Address of the 16-i32 result area. */
export function result(): usize {
  return RES;
}

@inline function setR(slot: i32, v: i32): void {
  store<i32>(RES + (<usize>slot << 2), v);
}

@inline function at(p: usize, i: i32): i32 {
  return <i32>load<u8>(p + <usize>i);
}

function bytesEq(p: usize, len: i32, lit: usize, litLen: i32): bool {
  if (len != litLen) return false;
  for (let i = 0; i < len; i++) if (at(p, i) != at(lit, i)) return false;
  return true;
}

@inline function isLowerAlnum(c: i32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}
@inline function isAlnum(c: i32): bool {
  return isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a);
}
@inline function isAlpha(c: i32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}
@inline function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}
@inline function isHex(c: i32): bool {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}
@inline function isLowerHex(c: i32): bool {
  return isDigit(c) || (c >= 0x61 && c <= 0x66);
}
@inline function isWord(c: i32): bool {
  return isAlnum(c) || c == 0x5f;
}

/** Index of byte `c` in p[from, end), or -1. */
function indexOf(p: usize, from: i32, end: i32, c: i32): i32 {
  for (let i = from; i < end; i++) if (at(p, i) == c) return i;
  return -1;
}

// --- Unicode: does String#toLowerCase change this code point? ---------------------------------------

/** Whether lowercasing changes code point `cp` (A-Z, or one of the generated non-ASCII runs). */
export function changesWhenLowercased(cp: i32): bool {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a;
  let lo = 0;
  let hi = LOWER_RUN_COUNT - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const p = LOWER_RUNS + (<usize>mid * 12);
    const first = <i32>load<u32>(p);
    const last = <i32>load<u32>(p, 4);
    if (cp < first) hi = mid - 1;
    else if (cp > last) lo = mid + 1;
    else return (cp - first) % <i32>load<u32>(p, 8) == 0;
  }
  return false;
}

// Decoding state of codePointAt (AssemblyScript has no tuples).
let cpLen: i32 = 1;

/** The code point at p[i] (of p[0, end)), its byte length in cpLen; malformed bytes give U+FFFD. */
function codePointAt(p: usize, i: i32, end: i32): i32 {
  const b0 = at(p, i);
  cpLen = 1;
  if (b0 < 0x80) return b0;
  let n = 0;
  let cp = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 2;
    cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 3;
    cp = b0 & 0x07;
  } else return 0xfffd;
  for (let k = 1; k <= n; k++) {
    if (i + k >= end) return 0xfffd;
    const b = at(p, i + k);
    if ((b & 0xc0) != 0x80) return 0xfffd;
    cp = (cp << 6) | (b & 0x3f);
  }
  cpLen = n + 1;
  return cp;
}

/** Whether lowercasing p[from, to) changes it. */
function changesLower(p: usize, from: i32, to: i32): bool {
  let i = from;
  while (i < to) {
    const cp = codePointAt(p, i, to);
    if (changesWhenLowercased(cp)) return true;
    i += cpLen;
  }
  return false;
}

/** UTF-16 length of the UTF-8 bytes p[0, byteOffset). */
function utf16Offset(p: usize, byteOffset: i32): i32 {
  let units = 0;
  let i = 0;
  while (i < byteOffset) {
    const cp = codePointAt(p, i, byteOffset);
    units += cp >= 0x10000 ? 2 : 1;
    i += cpLen;
  }
  return units;
}

// --- the grammar ------------------------------------------------------------------------------------

/** path-component ("/" path-component)*, component := [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* */
function validPath(p: usize, from: i32, to: i32): bool {
  if (from >= to) return false;
  let i = from;
  while (true) {
    // one component
    if (i >= to || !isLowerAlnum(at(p, i))) return false;
    while (i < to && isLowerAlnum(at(p, i))) i++;
    while (i < to) {
      const c = at(p, i);
      if (c == 0x2f) break; // "/"
      // separator
      if (c == 0x2e) i++;
      else if (c == 0x5f) {
        i++;
        if (i < to && at(p, i) == 0x5f) i++;
      } else if (c == 0x2d) {
        while (i < to && at(p, i) == 0x2d) i++;
      } else return false;
      if (i >= to || !isLowerAlnum(at(p, i))) return false;
      while (i < to && isLowerAlnum(at(p, i))) i++;
    }
    if (i >= to) return true;
    i++; // "/"
  }
  return false;
}

/** [\w][\w.-]{0,127} */
function validTag(p: usize, from: i32, to: i32): bool {
  const n = to - from;
  if (n < 1 || n > 128 || !isWord(at(p, from))) return false;
  for (let i = from + 1; i < to; i++) {
    const c = at(p, i);
    if (!isWord(c) && c != 0x2e && c != 0x2d) return false;
  }
  return true;
}

/** [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ":" [0-9a-fA-F]{32,} */
function validDigest(p: usize, from: i32, to: i32): bool {
  let i = from;
  while (true) {
    if (i >= to || !isAlpha(at(p, i))) return false;
    i++;
    while (i < to && isAlnum(at(p, i))) i++;
    if (i >= to) return false;
    const c = at(p, i);
    if (c == 0x3a) break;
    if (c != 0x2d && c != 0x5f && c != 0x2b && c != 0x2e) return false;
    i++;
  }
  i++; // ":"
  if (to - i < 32) return false;
  for (; i < to; i++) if (!isHex(at(p, i))) return false;
  return true;
}

/** (domain-name | "[" [a-fA-F0-9:]+ "]") (":" [0-9]+)?, the whole of p[from, to). */
function validDomain(p: usize, from: i32, to: i32): bool {
  let i = from;
  if (i >= to) return false;
  if (at(p, i) == 0x5b) {
    i++;
    const start = i;
    while (i < to && (isHex(at(p, i)) || at(p, i) == 0x3a)) i++;
    if (i == start || i >= to || at(p, i) != 0x5d) return false;
    i++;
  } else {
    // components: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9], joined by "."
    while (true) {
      if (i >= to || !isAlnum(at(p, i))) return false;
      let last = at(p, i);
      i++;
      while (i < to && (isAlnum(at(p, i)) || at(p, i) == 0x2d)) {
        last = at(p, i);
        i++;
      }
      if (last == 0x2d) return false;
      if (i < to && at(p, i) == 0x2e) {
        i++;
        continue;
      }
      break;
    }
  }
  if (i == to) return true;
  if (at(p, i) != 0x3a) return false;
  i++;
  if (i >= to) return false;
  for (; i < to; i++) if (!isDigit(at(p, i))) return false;
  return true;
}

// Where the last successful matchRest found the parts (full-buffer offsets).
let mPathEnd: i32 = 0;
let mTagStart: i32 = -1;
let mTagEnd: i32 = -1;
let mDigestStart: i32 = -1;

/** path [":" tag] ["@" digest] over the whole of p[from, to). */
function matchRest(p: usize, from: i32, to: i32): bool {
  let i = from;
  while (i < to) {
    const c = at(p, i);
    if (c == 0x3a || c == 0x40) break;
    i++;
  }
  if (!validPath(p, from, i)) return false;
  mPathEnd = i;
  mTagStart = -1;
  mTagEnd = -1;
  mDigestStart = -1;
  if (i < to && at(p, i) == 0x3a) {
    const t = i + 1;
    let e = t;
    while (e < to && at(p, e) != 0x40) e++;
    if (!validTag(p, t, e)) return false;
    mTagStart = t;
    mTagEnd = e;
    i = e;
  }
  if (i < to) {
    // "@"
    if (!validDigest(p, i + 1, to)) return false;
    mDigestStart = i + 1;
  }
  return true;
}

/** The reference regexp with its domain group: domain "/" rest. */
function matchWithDomain(p: usize, len: i32): bool {
  const slash = indexOf(p, 0, len, 0x2f);
  if (slash < 0) return false;
  return validDomain(p, 0, slash) && matchRest(p, slash + 1, len);
}

/** Checks a digest the way reference.ts's digestProblem does; sets R_DOMAIN to the algorithm on errors. */
function digestProblem(p: usize, from: i32, to: i32, inOff: i32): i32 {
  const colon = indexOf(p, from, to, 0x3a);
  const algLen = colon - from;
  let want = 0;
  if (algLen == 6 && bytesEq(p + <usize>from, 3, S_SHA, 3)) {
    const a = at(p, from + 3);
    const b = at(p, from + 4);
    const c = at(p, from + 5);
    if (a == 0x32 && b == 0x35 && c == 0x36) want = 64;
    else if (a == 0x33 && b == 0x38 && c == 0x34) want = 96;
    else if (a == 0x35 && b == 0x31 && c == 0x32) want = 128;
  }
  setR(R_DOMAIN, 0);
  setR(R_DOMAIN + 1, 0);
  setR(R_DOMAIN + 2, from + inOff);
  setR(R_DOMAIN + 3, colon + inOff);
  if (want == 0) {
    // ^[a-z0-9]+([.+_-][a-z0-9]+)*$
    let i = from;
    let ok = true;
    while (true) {
      if (i >= colon || !isLowerAlnum(at(p, i))) {
        ok = false;
        break;
      }
      while (i < colon && isLowerAlnum(at(p, i))) i++;
      if (i >= colon) break;
      const c = at(p, i);
      if (c != 0x2e && c != 0x2b && c != 0x5f && c != 0x2d) {
        ok = false;
        break;
      }
      i++;
    }
    return ok ? ERR_DIGEST_ALG : ERR_DIGEST_FORMAT;
  }
  for (let i = colon + 1; i < to; i++) if (!isLowerHex(at(p, i))) return ERR_DIGEST_HEX;
  if (to - colon - 1 != want) {
    setR(R_TAG_KIND, want);
    return ERR_DIGEST_LENGTH;
  }
  return OK;
}

/** Parses the `len` input bytes written at input(); see the header for the result. */
export function parse(len: i32): i32 {
  const src = inBase;
  for (let k = 0; k < 16; k++) setR(k, 0);
  let base = 0;
  if (len >= 9 && bytesEq(src, 9, S_TRANSPORT, 9)) base = 9;
  const n = len - base; // s := input after "docker://"
  const s = src + <usize>base;
  if (n == 0) return ERR_EMPTY;
  if (n == 64) {
    let hex = true;
    for (let i = 0; i < 64; i++) {
      if (!isLowerHex(at(s, i))) {
        hex = false;
        break;
      }
    }
    if (hex) return ERR_IDENTIFIER;
  }

  // splitDockerDomain: full = prefix[0, plen) + s[k, n)
  const slash = indexOf(s, 0, n, 0x2f);
  let plen = 0;
  let k = 0;
  if (slash < 0) {
    plen = PREFIX_LIBRARY;
  } else {
    let domainIsFirst = false;
    let remoteStart = slash + 1;
    if (bytesEq(s, slash, S_LOCALHOST, 9)) domainIsFirst = true;
    else if (bytesEq(s, slash, S_INDEX, 15)) domainIsFirst = false;
    else if (indexOf(s, 0, slash, 0x2e) >= 0 || indexOf(s, 0, slash, 0x3a) >= 0) domainIsFirst = true;
    else if (changesLower(s, 0, slash)) domainIsFirst = true;
    else remoteStart = 0; // docker.io + the whole name
    const isDockerIo = !domainIsFirst || bytesEq(s, slash, PREFIX, PREFIX_DOMAIN);
    const library = isDockerIo && indexOf(s, remoteStart, n, 0x2f) < 0;
    if (library) {
      plen = PREFIX_LIBRARY;
      k = remoteStart;
    } else if (!domainIsFirst) {
      plen = PREFIX_DOMAIN_SLASH;
      k = remoteStart;
    }
  }
  const fullLen = plen + (n - k);
  const full = fullBase;
  memory.copy(full, PREFIX, <usize>plen);
  memory.copy(full + <usize>plen, s + <usize>k, <usize>(n - k));
  // full offset → input offset (valid for offsets >= plen)
  const inOff = base + k - plen;

  // The remote (remainder up to its first ":") must not change when lowercased.
  const domEnd = indexOf(full, 0, fullLen, 0x2f);
  let remoteEnd = indexOf(full, domEnd + 1, fullLen, 0x3a);
  if (remoteEnd < 0) remoteEnd = fullLen;
  if (changesLower(full, domEnd + 1, remoteEnd)) {
    const rs = domEnd + 1;
    // the remote starts in the prefix ("library/") or in the input
    setR(R_DOMAIN, rs < plen ? rs : 0);
    setR(R_DOMAIN + 1, rs < plen ? plen : 0);
    setR(R_DOMAIN + 2, utf16Offset(src, (rs < plen ? plen : rs) + inOff));
    setR(R_DOMAIN + 3, utf16Offset(src, remoteEnd + inOff));
    return ERR_REMOTE_UPPER;
  }

  if (!matchWithDomain(full, fullLen)) {
    // Lowercased, does it match the regexp (with or without the domain group)? Only if all of it is ASCII
    // once lowercased: the one non-ASCII code point whose lowercase is ASCII is U+212A KELVIN SIGN.
    const low = lowBase;
    let lowLen = 0;
    let changed = false;
    let i = 0;
    while (i < fullLen) {
      const c = at(full, i);
      if (c < 0x80) {
        if (c >= 0x41 && c <= 0x5a) {
          store<u8>(low + <usize>(lowLen++), <u8>(c + 0x20));
          changed = true;
        } else store<u8>(low + <usize>(lowLen++), <u8>c);
        i++;
        continue;
      }
      const cp = codePointAt(full, i, fullLen);
      if (cp != 0x212a) return ERR_FORMAT;
      store<u8>(low + <usize>(lowLen++), 0x6b);
      changed = true;
      i += cpLen;
    }
    if (changed && (matchWithDomain(low, lowLen) || matchRest(low, 0, lowLen))) return ERR_NAME_UPPER;
    return ERR_FORMAT;
  }

  const pathStart = domEnd + 1;
  if (mPathEnd - pathStart > PATH_MAX) return ERR_TOO_LONG;
  if (mDigestStart >= 0) {
    const problem = digestProblem(full, mDigestStart, fullLen, inOff);
    if (problem != OK) return problem;
  }

  // domain: "docker.io" from the prefix, or the input
  if (plen > 0) {
    setR(R_DOMAIN, 0);
    setR(R_DOMAIN + 1, PREFIX_DOMAIN);
    setR(R_DOMAIN + 2, 0);
    setR(R_DOMAIN + 3, 0);
  } else {
    setR(R_DOMAIN, 0);
    setR(R_DOMAIN + 1, 0);
    setR(R_DOMAIN + 2, inOff);
    setR(R_DOMAIN + 3, domEnd + inOff);
  }
  // path: maybe "library/" from the prefix, then the input
  if (pathStart < plen) {
    setR(R_PATH, pathStart);
    setR(R_PATH + 1, plen);
    setR(R_PATH + 2, plen + inOff);
  } else setR(R_PATH + 2, pathStart + inOff);
  setR(R_PATH + 3, mPathEnd + inOff);
  if (mDigestStart >= 0) {
    setR(R_HAS_DIGEST, 1);
    setR(R_DIGEST, mDigestStart + inOff);
    setR(R_DIGEST + 1, fullLen + inOff);
  } else if (mTagStart >= 0) {
    setR(R_TAG_KIND, 2);
    setR(R_TAG, mTagStart + inOff);
    setR(R_TAG + 1, mTagEnd + inOff);
  } else setR(R_TAG_KIND, 1);
  return OK;
}
