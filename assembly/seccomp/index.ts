// Seccomp: the AssemblyScript port of src/spec/seccomp.ts (the reference; keep the two in step).
//
// Two jobs, two ABIs:
//
// 1. Conversion, Docker-format profile → OCI linux.seccomp (not a hot path): JSON bytes in, JSON bytes
//    out. The caller writes `[profile, arch, kernel, capabilities]` as JSON.stringify writes it (compact,
//    canonical: equal strings have equal bytes, so strings are compared and copied as raw tokens and never
//    decoded) at convertInput(len), calls convert(len), and reads convertOutput() / convertOutputLen():
//      "O" + the OCI section as JSON ("null" when the profile turns seccomp off)
//      "E" + kind byte + JSON path + "\0" + the offending value's JSON text (empty: undefined)
//    A 64-bit value the caller wrote as a bigint arrives as the string "\u0000n:<digits>" and is copied
//    as such; the caller turns it back into a bigint.
//
// 2. Evaluator (numbers only): the caller compiles an OCI section for one architecture into i32s
//    (syscall ids, action codes, argument conditions as u32 halves) at programInput(n), calls
//    programLoad(n, idCount), writes the syscall's arguments as u64 at argsInput(count) and calls
//    evaluate(id, count): ((deciding rule + 1) << 1) | conditional, rule -1 = the default action.

// --- memory -------------------------------------------------------------------------------------------

let brk: usize = (__heap_base + 15) & ~(<usize>15);

function ensureMemory(end: usize): void {
  const have = <usize>memory.size() << 16;
  if (end > have) {
    if (memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) unreachable();
  }
}

/** Bump allocation; regions are replaced (not freed) when they must grow, so growth doubles. */
function alloc(size: usize): usize {
  const p = brk;
  brk = (brk + size + 15) & ~(<usize>15);
  ensureMemory(brk);
  return p;
}

@inline function u8at(p: usize): i32 {
  return <i32>load<u8>(p);
}

// --- conversion: JSON tape --------------------------------------------------------------------------

const K_NULL: i32 = 1;
const K_FALSE: i32 = 2;
const K_TRUE: i32 = 3;
const K_NUMBER: i32 = 4;
const K_STRING: i32 = 5;
const K_ARRAY: i32 = 6;
const K_OBJECT: i32 = 7;
const K_BIGINT: i32 = 8; // the caller's "\u0000n:<digits>" string

let arena: usize = 0;
let arenaCap: usize = 0;
let src: usize = 0;
let srcLen: i32 = 0;
let tape: usize = 0; // 4 i32 per node: kind, start, end, next
let nodeCount: i32 = 0;
let scratch: usize = 0; // i32 list
let hashTab: usize = 0;
let hashMask: i32 = 0;
let outBase: usize = 0;
let outEnd: usize = 0;
let out: usize = 0;
let pos: i32 = 0;
let bad: bool = false;

/** Makes room for `len` input bytes and returns their address. */
export function convertInput(len: i32): usize {
  const n = <usize>len + 16;
  let hashSize: usize = 64;
  while (hashSize < n) hashSize <<= 1;
  const need = n + 16 * n + 4 * n + 16 * hashSize + 3 * n + 65536;
  if (need > arenaCap) {
    arenaCap = need * 2;
    arena = alloc(arenaCap);
  }
  src = arena;
  tape = (src + n + 15) & ~(<usize>15);
  scratch = tape + 16 * n;
  hashTab = scratch + 4 * n;
  hashMask = <i32>hashSize - 1;
  outBase = hashTab + 16 * hashSize;
  outEnd = arena + arenaCap;
  return arena;
}

/** Where the result of the last convert() is. */
export function convertOutput(): usize {
  return outBase;
}

/** Its length in bytes. */
export function convertOutputLen(): i32 {
  return <i32>(out - outBase);
}

@inline function kind(n: i32): i32 {
  return load<i32>(tape + (<usize>n << 4));
}
@inline function tStart(n: i32): i32 {
  return load<i32>(tape + (<usize>n << 4), 4);
}
@inline function tEnd(n: i32): i32 {
  return load<i32>(tape + (<usize>n << 4), 8);
}
@inline function tNext(n: i32): i32 {
  return load<i32>(tape + (<usize>n << 4), 12);
}

function newNode(k: i32, start: i32): i32 {
  const n = nodeCount++;
  const p = tape + (<usize>n << 4);
  store<i32>(p, k);
  store<i32>(p, start, 4);
  return n;
}
function closeNode(n: i32, end: i32): void {
  const p = tape + (<usize>n << 4);
  store<i32>(p, end, 8);
  store<i32>(p, nodeCount, 12);
}

@inline function ch(i: i32): i32 {
  return i < srcLen ? u8at(src + <usize>i) : -1;
}

function skipWs(): void {
  while (pos < srcLen) {
    const c = ch(pos);
    if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) pos++;
    else break;
  }
}

function parseString(): i32 {
  const start = pos;
  pos++; // "
  while (pos < srcLen) {
    const c = ch(pos);
    if (c == 0x22) {
      pos++;
      // "\u0000n:" marks a bigint
      const k = pos - start >= 10 && ch(start + 1) == 0x5c && ch(start + 2) == 0x75 && ch(start + 3) == 0x30 &&
          ch(start + 4) == 0x30 && ch(start + 5) == 0x30 && ch(start + 6) == 0x30 && ch(start + 7) == 0x6e &&
          ch(start + 8) == 0x3a
        ? K_BIGINT
        : K_STRING;
      const n = newNode(k, start);
      closeNode(n, pos);
      return n;
    }
    if (c == 0x5c) pos += 2;
    else pos++;
  }
  bad = true;
  return -1;
}

function parseValue(depth: i32): i32 {
  skipWs();
  if (pos >= srcLen || depth > 512) {
    bad = true;
    return -1;
  }
  const c = ch(pos);
  const start = pos;
  if (c == 0x22) return parseString();
  if (c == 0x7b || c == 0x5b) {
    const isObj = c == 0x7b;
    const n = newNode(isObj ? K_OBJECT : K_ARRAY, start);
    pos++;
    skipWs();
    const close = isObj ? 0x7d : 0x5d;
    if (ch(pos) == close) {
      pos++;
      closeNode(n, pos);
      return n;
    }
    while (true) {
      if (isObj) {
        skipWs();
        if (ch(pos) != 0x22) {
          bad = true;
          return -1;
        }
        parseString();
        skipWs();
        if (ch(pos) != 0x3a) {
          bad = true;
          return -1;
        }
        pos++;
      }
      if (parseValue(depth + 1) < 0) return -1;
      skipWs();
      const d = ch(pos);
      pos++;
      if (d == 0x2c) continue;
      if (d == close) break;
      bad = true;
      return -1;
    }
    closeNode(n, pos);
    return n;
  }
  let k = 0;
  if (c == 0x6e) k = K_NULL;
  else if (c == 0x74) k = K_TRUE;
  else if (c == 0x66) k = K_FALSE;
  else k = K_NUMBER;
  while (pos < srcLen) {
    const d = ch(pos);
    if (d == 0x2c || d == 0x5d || d == 0x7d || d == 0x20 || d == 0x0a || d == 0x0d || d == 0x09) break;
    pos++;
  }
  const n = newNode(k, start);
  closeNode(n, pos);
  return n;
}

// --- conversion: token helpers ----------------------------------------------------------------------

/** Whether string node n's content (between the quotes) is the ASCII literal s. */
function strIs(n: i32, s: string): bool {
  const k = kind(n);
  if (k != K_STRING) return false;
  const a = tStart(n) + 1;
  const len = tEnd(n) - 1 - a;
  if (len != s.length) return false;
  for (let i = 0; i < len; i++) if (u8at(src + <usize>(a + i)) != <i32>s.charCodeAt(i)) return false;
  return true;
}

/** Whether two nodes have the same JSON text. */
function sameToken(a: i32, b: i32): bool {
  const la = tEnd(a) - tStart(a);
  if (la != tEnd(b) - tStart(b)) return false;
  return memory.compare(src + <usize>tStart(a), src + <usize>tStart(b), <usize>la) == 0;
}

/** The value of `key` in object node obj, or -1 when absent. */
function get(obj: i32, key: string): i32 {
  let i = obj + 1;
  const end = tNext(obj);
  while (i < end) {
    const v = i + 1;
    if (strIs(i, key)) return v;
    i = tNext(v);
  }
  return -1;
}

/** Number of children of an array node. */
function arrayLen(a: i32): i32 {
  let n = 0;
  let i = a + 1;
  const end = tNext(a);
  while (i < end) {
    n++;
    i = tNext(i);
  }
  return n;
}

function isAbsent(n: i32): bool {
  return n < 0 || kind(n) == K_NULL;
}

/** A number token of an integer (JSON.stringify's forms: digits, d.ddde+NN for >= 1e21, ...e-NN). */
function isIntegerToken(n: i32): bool {
  if (kind(n) != K_NUMBER) return false;
  let dot = false;
  for (let i = tStart(n); i < tEnd(n); i++) {
    const c = u8at(src + <usize>i);
    if (c == 0x65 || c == 0x45) return u8at(src + <usize>(i + 1)) == 0x2b; // e+ : >= 1e21
    if (c == 0x2e) dot = true;
  }
  return !dot;
}

/** The value of a plain-digit token, or -1 when it is not one or exceeds max. */
function smallInt(n: i32, max: i32): i32 {
  if (kind(n) != K_NUMBER) return -1;
  let v = 0;
  const s = tStart(n);
  const e = tEnd(n);
  if (e - s > 6) return -1;
  for (let i = s; i < e; i++) {
    const c = u8at(src + <usize>i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + c - 0x30;
  }
  return v > max ? -1 : v;
}

// --- conversion: output -----------------------------------------------------------------------------

@inline function w(c: i32): void {
  if (out >= outEnd) unreachable();
  store<u8>(out++, <u8>c);
}
function wlit(s: string): void {
  for (let i = 0; i < s.length; i++) w(<i32>s.charCodeAt(i));
}
function wtok(n: i32): void {
  const len = <usize>(tEnd(n) - tStart(n));
  if (out + len > outEnd) unreachable();
  memory.copy(out, src + <usize>tStart(n), len);
  out += len;
}
function wint(v: i32): void {
  if (v >= 10) wint(v / 10);
  w(0x30 + v % 10);
}

// --- conversion: errors -----------------------------------------------------------------------------

const E_NOT_JSON_OBJECT: i32 = 1;
const E_NOT_LIST: i32 = 2;
const E_NOT_STRING_LIST: i32 = 3;
const E_ARCH_BOTH: i32 = 4;
const E_ACTION: i32 = 5;
const E_ERRNO: i32 = 6;
const E_ARCHMAP_ENTRY: i32 = 7;
const E_NOT_OBJECT: i32 = 8;
const E_NAME_BOTH: i32 = 9;
const E_INDEX: i32 = 10;
const E_VALUE: i32 = 11;
const E_OP: i32 = 12;
const E_MIN_KERNEL: i32 = 13;
const E_NO_KERNEL: i32 = 14;

// The JSON path of the rule being read: "$" or "$.syscalls[i]" (+ a suffix given with the error).
let ruleIdx: i32 = -1;
let failed: bool = false;

/** Starts an error: "E", kind, path ("$", or "$.syscalls[i]" then `sub`); the caller adds more path. */
function fail(k: i32, sub: string): void {
  failed = true;
  out = outBase;
  w(0x45);
  w(k);
  if (ruleIdx < 0) w(0x24);
  else {
    wlit("$.syscalls[");
    wint(ruleIdx);
    w(0x5d);
  }
  wlit(sub);
}
/** Ends an error with the offending value's JSON text (node -1: undefined, written as nothing). */
function failValue(n: i32): void {
  w(0);
  if (n >= 0) wtok(n);
}
function failIndexed(k: i32, sub: string, i: i32, sub2: string, n: i32): void {
  fail(k, sub);
  if (i >= 0) {
    w(0x5b);
    wint(i);
    w(0x5d);
  }
  wlit(sub2);
  failValue(n);
}

/** Checks a list of strings (absent = empty); false after reporting. */
function checkStringList(n: i32, sub: string, i: i32, sub2: string): bool {
  if (isAbsent(n)) return true;
  if (kind(n) == K_ARRAY) {
    let c = n + 1;
    const end = tNext(n);
    let ok = true;
    while (c < end) {
      if (kind(c) != K_STRING) {
        ok = false;
        break;
      }
      c = tNext(c);
    }
    if (ok) return true;
  }
  failIndexed(E_NOT_STRING_LIST, sub, i, sub2, -1);
  return false;
}
@inline function listLen(n: i32): i32 {
  return isAbsent(n) ? 0 : arrayLen(n);
}

const ACTIONS: StaticArray<string> = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG",
  "SCMP_ACT_NOTIFY",
];
const OPS: StaticArray<string> = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
];

/** Index of an action string node in ACTIONS, or -1. */
function actionIndex(n: i32): i32 {
  if (n < 0) return -1;
  for (let i = 0; i < ACTIONS.length; i++) if (strIs(n, ACTIONS[i])) return i;
  return -1;
}

/** errnoValue: -2 = absent, -1 = failed (reported), else the errno. */
function errnoValue(n: i32, sub: string): i32 {
  if (isAbsent(n)) return -2;
  const v = isIntegerToken(n) ? smallInt(n, 4095) : -1;
  if (v < 0) {
    failIndexed(E_ERRNO, sub, -1, "", n);
    return -1;
  }
  return v;
}

// --- conversion: architectures and kernel -----------------------------------------------------------

// Go / uname architecture → libseccomp's native name (moby's goToNative plus uname -m spellings).
const ARCH_FROM: StaticArray<string> = [
  "386", "i386", "i686", "amd64", "x86_64", "arm", "armv7l", "arm64", "aarch64", "loong64", "loongarch64",
  "mips64", "mips64p32", "mips64le", "mips64p32le", "mipsle", "ppc", "ppc64", "ppc64le", "riscv64", "s390",
  "s390x",
];
const ARCH_TO: StaticArray<string> = [
  "x86", "x86", "x86", "amd64", "amd64", "arm", "arm", "arm64", "arm64", "loongarch64", "loongarch64",
  "mips64", "mips64n32", "mipsel64", "mipsel64n32", "mipsel", "ppc", "ppc64", "ppc64le", "riscv64", "s390",
  "s390x",
];
// libseccomp's native name → the OCI/SCMP architecture constant.
const NATIVE: StaticArray<string> = [
  "x86", "amd64", "x32", "arm", "arm64", "loongarch64", "mips64", "mips64n32", "mipsel64", "mipsel64n32",
  "mipsel", "ppc", "ppc64", "ppc64le", "riscv64", "s390", "s390x",
];
const SCMP: StaticArray<string> = [
  "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
];

/** Index in NATIVE of the target arch's native name, or -1. */
function nativeArch(n: i32): i32 {
  let name = "";
  let found = false;
  for (let i = 0; i < ARCH_FROM.length; i++) {
    if (strIs(n, ARCH_FROM[i])) {
      name = ARCH_TO[i];
      found = true;
      break;
    }
  }
  for (let i = 0; i < NATIVE.length; i++) {
    if (found ? NATIVE[i] == name : strIs(n, NATIVE[i])) return i;
  }
  return -1;
}

/** Whether array node a (absent = empty) has a string equal to the ASCII literal s. */
function listHas(a: i32, s: string): bool {
  if (isAbsent(a)) return false;
  let c = a + 1;
  const end = tNext(a);
  while (c < end) {
    if (strIs(c, s)) return true;
    c = tNext(c);
  }
  return false;
}

/** Whether array node a (absent = empty) has a token equal to node t. */
function listHasToken(a: i32, t: i32): bool {
  if (isAbsent(a)) return false;
  let c = a + 1;
  const end = tNext(a);
  while (c < end) {
    if (sameToken(c, t)) return true;
    c = tNext(c);
  }
  return false;
}

let kernelMajor: f64 = -1; // -1: the release has no version
let kernelMinor: f64 = 0;

/** parseKernel: /^(\d+)\.(\d+)/ of the trimmed release, read from its JSON text. */
function parseKernel(n: i32): void {
  kernelMajor = -1;
  if (kind(n) != K_STRING) return;
  let i = tStart(n) + 1;
  const end = tEnd(n) - 1;
  // String#trim's leading white space: escapes \t \n \f \r \u000b, and the Unicode spaces
  while (i < end) {
    const c = u8at(src + <usize>i);
    if (c == 0x5c) {
      const e = u8at(src + <usize>(i + 1));
      if (e == 0x74 || e == 0x6e || e == 0x66 || e == 0x72) {
        i += 2;
        continue;
      }
      if (
        e == 0x75 && i + 5 < end && u8at(src + <usize>(i + 2)) == 0x30 && u8at(src + <usize>(i + 3)) == 0x30 &&
        u8at(src + <usize>(i + 4)) == 0x30 && u8at(src + <usize>(i + 5)) == 0x62
      ) {
        i += 6;
        continue;
      }
      break;
    }
    if (c == 0x20) {
      i++;
      continue;
    }
    if (c < 0x80) break;
    // decode one UTF-8 code point
    let cp = 0;
    let len = 0;
    if (c >= 0xe0 && c < 0xf0) {
      cp = ((c & 0x0f) << 12) | ((u8at(src + <usize>(i + 1)) & 0x3f) << 6) | (u8at(src + <usize>(i + 2)) & 0x3f);
      len = 3;
    } else if (c >= 0xc0 && c < 0xe0) {
      cp = ((c & 0x1f) << 6) | (u8at(src + <usize>(i + 1)) & 0x3f);
      len = 2;
    } else break;
    const space = cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
      cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
    if (!space) break;
    i += len;
  }
  let major: f64 = 0;
  let digits = 0;
  while (i < end && u8at(src + <usize>i) >= 0x30 && u8at(src + <usize>i) <= 0x39) {
    major = major * 10 + <f64>(u8at(src + <usize>i) - 0x30);
    i++;
    digits++;
  }
  if (digits == 0 || i >= end || u8at(src + <usize>i) != 0x2e) return;
  i++;
  let minor: f64 = 0;
  digits = 0;
  while (i < end && u8at(src + <usize>i) >= 0x30 && u8at(src + <usize>i) <= 0x39) {
    minor = minor * 10 + <f64>(u8at(src + <usize>i) - 0x30);
    i++;
    digits++;
  }
  if (digits == 0) return;
  kernelMajor = major;
  kernelMinor = minor;
}

// minKernel of a filter being checked, parsed from "\d{1,3}.\d{1,3}"
let minMajor: i32 = 0;
let minMinor: i32 = 0;

/** checkFilter's minKernel test: true when absent/empty or well-formed (then minMajor/minMinor set). */
function minKernelOk(n: i32): bool {
  if (kind(n) != K_STRING) return false;
  const s = tStart(n) + 1;
  const e = tEnd(n) - 1;
  let i = s;
  let a = 0;
  let da = 0;
  while (i < e && u8at(src + <usize>i) >= 0x30 && u8at(src + <usize>i) <= 0x39) {
    a = a * 10 + u8at(src + <usize>i) - 0x30;
    i++;
    da++;
  }
  if (da < 1 || da > 3 || i >= e || u8at(src + <usize>i) != 0x2e) return false;
  i++;
  let b = 0;
  let db = 0;
  while (i < e && u8at(src + <usize>i) >= 0x30 && u8at(src + <usize>i) <= 0x39) {
    b = b * 10 + u8at(src + <usize>i) - 0x30;
    i++;
    db++;
  }
  if (db < 1 || db > 3 || i != e) return false;
  if (e - s == 3 && a == 0 && b == 0) return false; // "0.0"
  minMajor = a;
  minMinor = b;
  return true;
}

/** checkFilter: -1 failed, 0 absent, 1 present (minKernel in fMin*, hasMin). */
let fHasMin: bool = false;
let fMinMajor: i32 = 0;
let fMinMinor: i32 = 0;
function checkFilter(f: i32, sub: string): i32 {
  fHasMin = false;
  if (isAbsent(f)) return 0;
  if (kind(f) != K_OBJECT) {
    failIndexed(E_NOT_OBJECT, sub, -1, "", -1);
    return -1;
  }
  const mk = get(f, "minKernel");
  if (!isAbsent(mk) && !strIs(mk, "")) {
    if (!minKernelOk(mk)) {
      failIndexed(E_MIN_KERNEL, sub, -1, ".minKernel", mk);
      return -1;
    }
    fHasMin = true;
    fMinMajor = minMajor;
    fMinMinor = minMinor;
  }
  if (!checkStringList(get(f, "caps"), sub, -1, ".caps")) return -1;
  if (!checkStringList(get(f, "arches"), sub, -1, ".arches")) return -1;
  return 1;
}

/** kernelAtLeast: -1 failed (no kernel version), 0 / 1. */
function kernelAtLeast(maj: i32, min: i32, sub: string): i32 {
  if (kernelMajor < 0) {
    fail(E_NO_KERNEL, sub);
    failValue(-1);
    return -1;
  }
  return kernelMajor > <f64>maj || (kernelMajor == <f64>maj && kernelMinor >= <f64>min) ? 1 : 0;
}

// --- conversion: the names already granted an action (a hash set of action/errno/name) ---------------

function hashToken(n: i32, key: i32): i32 {
  let h: u32 = 2166136261 ^ <u32>key;
  for (let i = tStart(n); i < tEnd(n); i++) {
    h = (h ^ <u32>u8at(src + <usize>i)) * 16777619;
  }
  return <i32>(h & 0x7fffffff);
}

/** Adds (key, name node) unless present; true when it was added. */
function grant(n: i32, key: i32): bool {
  const h = hashToken(n, key);
  let slot = h & hashMask;
  while (true) {
    const p = hashTab + (<usize>slot << 4);
    const used = load<i32>(p);
    if (used == 0) {
      store<i32>(p, 1);
      store<i32>(p, h, 4);
      store<i32>(p, n, 8);
      store<i32>(p, key, 12);
      return true;
    }
    if (load<i32>(p, 4) == h && load<i32>(p, 12) == key && sameToken(load<i32>(p, 8), n)) return false;
    slot = (slot + 1) & hashMask;
  }
  return false;
}

// --- conversion -------------------------------------------------------------------------------------

/** Writes an argument value: the token, or 0 when absent/null. */
function wValue(n: i32): void {
  if (isAbsent(n)) w(0x30);
  else wtok(n);
}

/** A value/valueTwo check: number integer >= 0, or a bigint (a negative one is reported too). */
function valueOk(n: i32): bool {
  if (isAbsent(n)) return true;
  if (kind(n) == K_BIGINT) return u8at(src + <usize>(tStart(n) + 9)) != 0x2d;
  return isIntegerToken(n) && u8at(src + <usize>tStart(n)) != 0x2d;
}

/** checkArgs for rule node r's args (validates all; output written later). -1 failed, else count. */
function checkArgs(args: i32): i32 {
  if (isAbsent(args)) return 0;
  if (kind(args) != K_ARRAY) {
    failIndexed(E_NOT_LIST, ".args", -1, "", -1);
    return -1;
  }
  let count = 0;
  let a = args + 1;
  const end = tNext(args);
  while (a < end) {
    if (kind(a) != K_OBJECT) {
      failIndexed(E_NOT_OBJECT, ".args", count, "", -1);
      return -1;
    }
    const index = get(a, "index");
    if (index < 0 || !isIntegerToken(index) || smallInt(index, 5) < 0) {
      failIndexed(E_INDEX, ".args", count, ".index", index);
      return -1;
    }
    const value = get(a, "value");
    if (!valueOk(value)) {
      failIndexed(E_VALUE, ".args", count, ".value", value);
      return -1;
    }
    const value2 = get(a, "valueTwo");
    if (!valueOk(value2)) {
      failIndexed(E_VALUE, ".args", count, ".valueTwo", value2);
      return -1;
    }
    const op = get(a, "op");
    let opOk = false;
    if (op >= 0) for (let i = 0; i < OPS.length; i++) if (strIs(op, OPS[i])) opOk = true;
    if (!opOk) {
      failIndexed(E_OP, ".args", count, ".op", op);
      return -1;
    }
    count++;
    a = tNext(a);
  }
  return count;
}

function writeArgs(args: i32): void {
  let a = args + 1;
  const end = tNext(args);
  let first = true;
  w(0x5b);
  while (a < end) {
    if (!first) w(0x2c);
    first = false;
    wlit('{"index":');
    wtok(get(a, "index"));
    wlit(',"value":');
    wValue(get(a, "value"));
    wlit(',"op":');
    wtok(get(a, "op"));
    const v2 = get(a, "valueTwo");
    if (v2 >= 0) {
      wlit(',"valueTwo":');
      wValue(v2);
    }
    w(0x7d);
    a = tNext(a);
  }
  w(0x5d);
}

/** Converts the input written at convertInput(); see the header for the output. */
export function convert(len: i32): void {
  srcLen = len;
  pos = 0;
  nodeCount = 0;
  bad = false;
  failed = false;
  ruleIdx = -1;
  out = outBase;
  const root = parseValue(0);
  skipWs();
  if (bad || root < 0 || kind(root) != K_ARRAY || pos != srcLen || arrayLen(root) != 4) {
    w(0x58); // "X": malformed input (a caller bug)
    return;
  }
  const profile = root + 1;
  const arch = tNext(profile);
  const kernel = tNext(arch);
  const caps = tNext(kernel);
  convertProfile(profile, arch, kernel, caps);
}

function convertProfile(profile: i32, archNode: i32, kernelNode: i32, caps: i32): void {
  if (kind(profile) != K_OBJECT) {
    failIndexed(E_NOT_JSON_OBJECT, "", -1, "", -1);
    return;
  }
  const rules = get(profile, "syscalls");
  if (!isAbsent(rules) && kind(rules) != K_ARRAY) {
    failIndexed(E_NOT_LIST, ".syscalls", -1, "", -1);
    return;
  }
  const ruleCount = listLen(rules);
  const defaultAction = get(profile, "defaultAction");
  if ((defaultAction < 0 || strIs(defaultAction, "")) && ruleCount == 0) {
    wlit("Onull");
    return;
  }
  if (actionIndex(defaultAction) < 0) {
    failIndexed(E_ACTION, ".defaultAction", -1, "", defaultAction);
    return;
  }
  const architectures = get(profile, "architectures");
  if (!checkStringList(architectures, ".architectures", -1, "")) return;
  const archMap = get(profile, "archMap");
  if (!isAbsent(archMap) && kind(archMap) != K_ARRAY) {
    failIndexed(E_NOT_LIST, ".archMap", -1, "", -1);
    return;
  }
  if (listLen(architectures) > 0 && listLen(archMap) > 0) {
    failIndexed(E_ARCH_BOTH, "", -1, "", -1);
    return;
  }
  const native = nativeArch(archNode);
  const defaultErrno = errnoValue(get(profile, "defaultErrnoRet"), ".defaultErrnoRet");
  if (defaultErrno == -1) return;

  // archMap entries are all checked; the first for the target's arch is used
  let archEntry = -1;
  if (listLen(archMap) > 0) {
    let e = archMap + 1;
    const end = tNext(archMap);
    let i = 0;
    while (e < end) {
      const a = kind(e) == K_OBJECT ? get(e, "architecture") : -1;
      if (a < 0 || kind(a) != K_STRING) {
        failIndexed(E_ARCHMAP_ENTRY, ".archMap", i, "", -1);
        return;
      }
      if (!checkStringList(get(e, "subArchitectures"), ".archMap", i, ".subArchitectures")) return;
      if (native >= 0 && archEntry < 0 && strIs(a, SCMP[native])) archEntry = e;
      i++;
      e = tNext(e);
    }
  }
  const flags = get(profile, "flags");
  if (!checkStringList(flags, ".flags", -1, "")) return;
  const listenerPath = get(profile, "listenerPath");
  const listenerMetadata = get(profile, "listenerMetadata");
  parseKernel(kernelNode);

  // header
  wlit('O{"defaultAction":');
  wtok(defaultAction);
  if (defaultErrno >= 0) {
    wlit(',"defaultErrnoRet":');
    wint(defaultErrno);
  }
  if (archEntry >= 0) {
    wlit(',"architectures":[');
    wtok(get(archEntry, "architecture"));
    const subs = get(archEntry, "subArchitectures");
    if (!isAbsent(subs)) {
      let s = subs + 1;
      const end = tNext(subs);
      while (s < end) {
        w(0x2c);
        wtok(s);
        s = tNext(s);
      }
    }
    w(0x5d);
  } else if (listLen(archMap) == 0 && listLen(architectures) > 0) {
    wlit(',"architectures":');
    wtok(architectures);
  }
  if (listLen(flags) > 0) {
    wlit(',"flags":');
    wtok(flags);
  }
  if (listenerPath >= 0 && kind(listenerPath) == K_STRING && !strIs(listenerPath, "")) {
    wlit(',"listenerPath":');
    wtok(listenerPath);
  }
  if (listenerMetadata >= 0 && kind(listenerMetadata) == K_STRING && !strIs(listenerMetadata, "")) {
    wlit(',"listenerMetadata":');
    wtok(listenerMetadata);
  }
  wlit(',"syscalls":[');
  for (let i = 0; i <= hashMask; i++) store<i32>(hashTab + (<usize>i << 4), 0);

  let firstRule = true;
  let r = ruleCount > 0 ? rules + 1 : 0;
  for (let i = 0; i < ruleCount; i++, r = tNext(r)) {
    ruleIdx = i;
    if (kind(r) != K_OBJECT) {
      failIndexed(E_NOT_OBJECT, "", -1, "", -1);
      return;
    }
    const names = get(r, "names");
    if (!checkStringList(names, ".names", -1, "")) return;
    const name = get(r, "name");
    const single = name >= 0 && kind(name) == K_STRING && !strIs(name, "");
    if (single && listLen(names) > 0) {
      failIndexed(E_NAME_BOTH, "", -1, "", -1);
      return;
    }
    const actionNode = get(r, "action");
    const action = actionIndex(actionNode);
    if (action < 0) {
      failIndexed(E_ACTION, ".action", -1, "", actionNode);
      return;
    }
    const errnoNode = get(r, "errnoRet");
    const errno = errnoValue(errnoNode, ".errnoRet");
    if (errno == -1) return;
    const args = get(r, "args");
    const argCount = checkArgs(args);
    if (argCount < 0) return;
    const ex = get(r, "excludes");
    const exState = checkFilter(ex, ".excludes");
    if (exState < 0) return;
    const exHasMin = fHasMin;
    const exMaj = fMinMajor;
    const exMin = fMinMinor;
    const inc = get(r, "includes");
    const incState = checkFilter(inc, ".includes");
    if (incState < 0) return;

    if (exState > 0) {
      const arches = get(ex, "arches");
      if (listLen(arches) > 0 && native >= 0 && listHas(arches, NATIVE[native])) continue;
      const exCaps = get(ex, "caps");
      if (!isAbsent(exCaps)) {
        let c = exCaps + 1;
        const end = tNext(exCaps);
        let hit = false;
        while (c < end) {
          if (listHasToken(caps, c)) {
            hit = true;
            break;
          }
          c = tNext(c);
        }
        if (hit) continue;
      }
      if (exHasMin) {
        const at = kernelAtLeast(exMaj, exMin, ".excludes.minKernel");
        if (at < 0) return;
        if (at > 0) continue;
      }
    }
    if (incState > 0) {
      const arches = get(inc, "arches");
      if (listLen(arches) > 0 && (native < 0 || !listHas(arches, NATIVE[native]))) continue;
      const incCaps = get(inc, "caps");
      if (!isAbsent(incCaps)) {
        let c = incCaps + 1;
        const end = tNext(incCaps);
        let all = true;
        while (c < end) {
          if (!listHasToken(caps, c)) {
            all = false;
            break;
          }
          c = tNext(c);
        }
        if (!all) continue;
      }
      if (fHasMin) {
        const at = kernelAtLeast(fMinMajor, fMinMinor, ".includes.minKernel");
        if (at < 0) return;
        if (at == 0) continue;
      }
    }

    // the names this rule keeps, into scratch
    let kept = 0;
    const key = action * 8192 + errno + 2;
    if (single) {
      if (argCount > 0 || grant(name, key)) store<i32>(scratch + (<usize>(kept++) << 2), name);
    } else if (!isAbsent(names)) {
      let nn = names + 1;
      const end = tNext(names);
      while (nn < end) {
        if (argCount > 0 || grant(nn, key)) store<i32>(scratch + (<usize>(kept++) << 2), nn);
        nn = tNext(nn);
      }
    }
    if (kept == 0) continue;
    if (!firstRule) w(0x2c);
    firstRule = false;
    wlit('{"names":[');
    for (let k = 0; k < kept; k++) {
      if (k > 0) w(0x2c);
      wtok(load<i32>(scratch + (<usize>k << 2)));
    }
    wlit('],"action":');
    wtok(actionNode);
    if (errno >= 0) {
      wlit(',"errnoRet":');
      wint(errno);
    }
    if (argCount > 0) {
      wlit(',"args":');
      writeArgs(args);
    }
    w(0x7d);
  }
  wlit("]}");
}

// --- evaluator ----------------------------------------------------------------------------------------

// Action codes the caller uses (the order of PREC), 255 = unknown (precedence 0).
// SCMP_ACT_KILL_PROCESS, _KILL_THREAD, _KILL, _TRAP, _ERRNO, _NOTIFY, _TRACE, _LOG, _ALLOW
const PREC: usize = memory.data<u8>([8, 7, 7, 6, 5, 4, 3, 2, 1]);

let prog: usize = 0; // i32 program as the caller wrote it
let progCap: usize = 0;
let ruleOff: usize = 0; // i32 per rule: offset (in i32) of the rule in prog
let idStart: usize = 0; // i32 per id + 1: start in idRules
let idRules: usize = 0; // i32 rule indexes, ascending per id
let idCount: i32 = 0;
let argsArea: usize = 0;
let argsCap: i32 = 0;

// The evaluator's index regions, reused from one program to the next (grown by doubling when too small).
const REGIONS: usize = memory.data(4 * 16, 16); // per region: address (usize as u32), capacity (u32)
function region(i: i32, size: usize): usize {
  const p = REGIONS + (<usize>i << 3);
  if (<usize>load<u32>(p, 4) < size) {
    store<u32>(p, <u32>alloc(size * 2));
    store<u32>(p, <u32>(size * 2), 4);
  }
  return <usize>load<u32>(p);
}

/** Makes room for an `n`-i32 program and returns its address. */
export function programInput(n: i32): usize {
  const need = <usize>n * 4 + 64;
  if (need > progCap) {
    progCap = need * 2;
    prog = alloc(progCap);
  }
  return prog;
}

/**
 * Loads the program written at programInput(): [rules, then per rule: action code, id count, ids...,
 * condition count, repeated-index flag, conditions (index, op, value lo, hi, valueTwo lo, hi)...].
 * Ids are below `ids`. Returns the number of rules, or -1 when the program is malformed.
 */
export function programLoad(n: i32, ids: i32): i32 {
  const rules = load<i32>(prog);
  if (rules < 0 || ids < 0) return -1;
  ruleOff = region(0, <usize>rules * 4 + 16);
  idStart = region(1, <usize>(ids + 2) * 4);
  idCount = ids;
  memory.fill(idStart, 0, <usize>(ids + 2) * 4);
  // pass 1: offsets and counts
  let p = 1;
  let total = 0;
  for (let r = 0; r < rules; r++) {
    if (p + 2 > n) return -1;
    store<i32>(ruleOff + (<usize>r << 2), p);
    const nIds = load<i32>(prog + (<usize>(p + 1) << 2));
    if (nIds < 0 || p + 2 + nIds + 2 > n) return -1;
    for (let k = 0; k < nIds; k++) {
      const id = load<i32>(prog + (<usize>(p + 2 + k) << 2));
      if (id < 0 || id >= ids) return -1;
      const c = idStart + (<usize>(id + 1) << 2);
      store<i32>(c, load<i32>(c) + 1);
      total++;
    }
    const q = p + 2 + nIds;
    const nConds = load<i32>(prog + (<usize>q << 2));
    if (nConds < 0 || q + 2 + 6 * nConds > n) return -1;
    p = q + 2 + 6 * nConds;
  }
  for (let id = 0; id < ids; id++) {
    const c = idStart + (<usize>(id + 1) << 2);
    store<i32>(c, load<i32>(c) + load<i32>(c - 4));
  }
  idRules = region(2, <usize>total * 4 + 16);
  // pass 2: fill, with a cursor per id
  const fill = region(3, <usize>(ids + 1) * 4);
  memory.copy(fill, idStart, <usize>ids * 4);
  for (let r = 0; r < rules; r++) {
    const q = load<i32>(ruleOff + (<usize>r << 2));
    const nIds = load<i32>(prog + (<usize>(q + 1) << 2));
    for (let k = 0; k < nIds; k++) {
      const id = load<i32>(prog + (<usize>(q + 2 + k) << 2));
      const f = fill + (<usize>id << 2);
      const at = load<i32>(f);
      // a rule naming the syscall twice is listed once
      if (at > load<i32>(idStart + (<usize>id << 2)) && load<i32>(idRules + (<usize>(at - 1) << 2)) == r) {
        continue;
      }
      store<i32>(idRules + (<usize>at << 2), r);
      store<i32>(f, at + 1);
    }
  }
  // a list runs from idStart[id] to its fill cursor (duplicates skipped)
  idBegin = idStart;
  idEnd = fill;
  return rules;
}

let idBegin: usize = 0;
let idEnd: usize = 0;

/** Room for `count` u64 arguments. */
export function argsInput(count: i32): usize {
  if (count > argsCap) {
    argsCap = count < 16 ? 16 : count;
    argsArea = alloc(<usize>argsCap * 8);
  }
  return argsArea;
}

let nArgs: i32 = 0;

@inline function arg(index: i32): u64 {
  return index >= 0 && index < nArgs ? load<u64>(argsArea + (<usize>index << 3)) : 0;
}

function condHolds(c: usize): bool {
  const a = arg(load<i32>(c));
  const op = load<i32>(c, 4);
  const v = (<u64>load<u32>(c, 12) << 32) | <u64>load<u32>(c, 8);
  switch (op) {
    case 0:
      return a != v;
    case 1:
      return a < v;
    case 2:
      return a <= v;
    case 3:
      return a == v;
    case 4:
      return a >= v;
    case 5:
      return a > v;
    case 6: {
      const v2 = (<u64>load<u32>(c, 20) << 32) | <u64>load<u32>(c, 16);
      return (a & v) == v2;
    }
  }
  return false;
}

/** The deciding rule for syscall `id` with `count` arguments at argsInput(): ((rule + 1) << 1) | conditional. */
export function evaluate(id: i32, count: i32): i32 {
  nArgs = count;
  if (id < 0 || id >= idCount) return 0;
  let best = -1;
  let bestPrec = -1;
  let conditional = 0;
  const from = load<i32>(idBegin + (<usize>id << 2));
  const to = load<i32>(idEnd + (<usize>id << 2));
  for (let k = from; k < to; k++) {
    const r = load<i32>(idRules + (<usize>k << 2));
    const q = load<i32>(ruleOff + (<usize>r << 2));
    const action = load<i32>(prog + (<usize>q << 2));
    const nIds = load<i32>(prog + (<usize>(q + 1) << 2));
    const cq = q + 2 + nIds;
    const nConds = load<i32>(prog + (<usize>cq << 2));
    let matches = true;
    if (nConds > 0) {
      conditional = 1;
      const repeated = load<i32>(prog + (<usize>(cq + 1) << 2)) != 0;
      let c = prog + (<usize>(cq + 2) << 2);
      if (repeated) {
        matches = false;
        for (let j = 0; j < nConds; j++, c += 24) {
          if (condHolds(c)) {
            matches = true;
            break;
          }
        }
      } else {
        for (let j = 0; j < nConds; j++, c += 24) {
          if (!condHolds(c)) {
            matches = false;
            break;
          }
        }
      }
    }
    if (!matches) continue;
    const prec = action >= 0 && action < 9 ? <i32>load<u8>(PREC + <usize>action) : 0;
    if (best < 0 || prec > bestPrec) {
      best = r;
      bestPrec = prec;
    }
  }
  return ((best + 1) << 1) | conditional;
}
