// Stats from containerd's raw cgroup Metrics (protobuf bytes, cgroup v1 or v2): decode + delta in one call.
// Called through src/wasm/stats.ts (which alone knows this layout); tests/oracles/metrics.ts (ts-proto
// decode) and tests/oracles/stats.ts (delta) are the TypeScript oracle the differential tests compare it with.
//
// ABI (numbers and bytes only, nothing allocated):
//   ptr = input(len)   makes room for `len` Metrics bytes (growing memory when needed), returns where
//   fromMetrics(kind, len, prevIsSample, timeNs, mhzPerCore) → 0 or an error code (E_* below)
//   errorAt()          the byte offset of the field where the last error was found
// and one static area of 42 f64 at `buffer()`:
//   [0, 14)   previous sample (written by the caller when prevIsSample = 1), SAMPLE_FIELDS order of
//             src/wasm/stats.ts
//   [14, 28)  current sample, written by fromMetrics: the Metrics' figures in nanoseconds and bytes
//   [28, 41)  result, RESULT_FIELDS order
//   [41]      the OOM-kill counter
// `kind` is the cgroup version: 1 = io.containerd.cgroups.v1.Metrics, 2 = io.containerd.cgroups.v2.Metrics.
// On an error nothing in the area is written.
//
// The decoder is a protobuf wire walker that keeps only the fields the sample needs (field numbers from
// the generated src/gen/containerd/cgroups/v{1,2}/metrics.ts) and skips every other field by its wire
// type: varint, 64-bit, length-delimited (packed repeated fields, strings, other messages), 32-bit and
// groups. Every read is bounded by the end of the enclosing message, so malformed input gives an error
// code, never a read outside the input. Like the ts-proto decoder (the oracle), a message field that
// occurs twice replaces the first occurrence (its fields start again from 0), a scalar's last occurrence
// wins, and a known field number with an unexpected wire type is skipped as unknown. Unlike it, a tag with
// field number 0 or an end-group tag outside a group is an error (ts-proto stops decoding there quietly).
//
// Unit conversions are the oracle's, operation by operation, in f64 (u64 → f64 rounds to nearest, as
// JavaScript's Number(bigint)): v2 microseconds × 1000; v1 swap = memsw − usage when larger, else 0;
// v2 kernel = kernel_stack + slab. The delta is the oracle's arithmetic in the same order, so the results
// are the same f64 values.

const SAMPLE_LEN: i32 = 14;
const RESULT_LEN: i32 = 13;
/** Version of this ABI, in layout(): the v1 module (samples in, no decoding) had none. */
const ABI: i32 = 2;

// Sample indexes
const TIME_NS: i32 = 0;
const CPU_TOTAL_NS: i32 = 1;
const CPU_USER_NS: i32 = 2;
const CPU_SYSTEM_NS: i32 = 3;
const THROTTLED_PERIODS: i32 = 4;
const THROTTLED_TIME_NS: i32 = 5;
const MEM_RSS: i32 = 6;
const MEM_CACHE: i32 = 7;
const MEM_USAGE: i32 = 8;
const MEM_MAX_USAGE: i32 = 9;
const MEM_SWAP: i32 = 10;
const MEM_KERNEL: i32 = 11;
const MEM_KERNEL_MAX: i32 = 12;
const CGROUP_VERSION: i32 = 13;

// Result indexes
const R_CPU_PERCENT: i32 = 0;
const R_CPU_USER_PERCENT: i32 = 1;
const R_CPU_SYSTEM_PERCENT: i32 = 2;
const R_CPU_TOTAL_TICKS: i32 = 3;
const R_THROTTLED_PERIODS: i32 = 4;
const R_THROTTLED_TIME_NS: i32 = 5;
const R_MEM_RSS: i32 = 6;
const R_MEM_CACHE: i32 = 7;
const R_MEM_USAGE: i32 = 8;
const R_MEM_MAX_USAGE: i32 = 9;
const R_MEM_SWAP: i32 = 10;
const R_MEM_KERNEL: i32 = 11;
const R_MEM_KERNEL_MAX: i32 = 12;
const R_OOM_KILLS: i32 = 13;

// Error codes (src/wasm/stats.ts has their messages)
const E_TRUNCATED: i32 = 1; // a field runs past the end of its message (or of the input)
const E_VARINT: i32 = 2; // a varint longer than 10 bytes
const E_TAG: i32 = 3; // a tag above 32 bits or with field number 0
const E_WIRE_TYPE: i32 = 4; // wire type 6 or 7, or an end-group tag outside a group
const E_GROUP: i32 = 5; // an end-group tag whose field number is not its start's
const E_DEPTH: i32 = 6; // groups nested deeper than MAX_GROUP_DEPTH
const E_KIND: i32 = 7; // kind is neither 1 nor 2
const E_LENGTH: i32 = 8; // len is negative or more than input() made room for

const MAX_GROUP_DEPTH: i32 = 100;

const BUF: usize = memory.data(8 * (2 * SAMPLE_LEN + RESULT_LEN + 1), 16);
const PREV: usize = BUF;
const CUR: usize = BUF + 8 * SAMPLE_LEN;
const OUT: usize = BUF + 16 * SAMPLE_LEN;

// Raw u64 figures as decoded, one slot each; a message's slots are contiguous, so entering it clears
// its range (replace semantics). 0 is what an absent field decodes to.
// cgroup v1
const V1_TOTAL: i32 = 0; // cpu(3).usage(1).total(1)              ┐ CPUStat      ┐ CPUUsage
const V1_KERNEL: i32 = 1; // cpu.usage.kernel(2)                   │              │
const V1_USER: i32 = 2; // cpu.usage.user(3)                       │              ┘
const V1_THR_PERIODS: i32 = 3; // cpu.throttling(2).throttled_periods(2) │        ┐ Throttle
const V1_THR_TIME: i32 = 4; // cpu.throttling.throttled_time(3)    ┘              ┘
const V1_TOTAL_CACHE: i32 = 5; // memory(4).total_cache(18)        ┐ MemoryStat
const V1_TOTAL_RSS: i32 = 6; // memory.total_rss(19)               │
const V1_USAGE: i32 = 7; // memory.usage(33).usage(2)              │ ┐ MemoryEntry
const V1_MAX: i32 = 8; // memory.usage.max(3)                      │ ┘
const V1_SWAP: i32 = 9; // memory.swap(34).usage(2) (memory + swap) │ ┐ MemoryEntry (max: V1_SCRATCH)
const V1_KMEM: i32 = 10; // memory.kernel(35).usage(2)             │ ┐ MemoryEntry
const V1_KMEM_MAX: i32 = 11; // memory.kernel.max(3)               ┘ ┘
const V1_OOM_KILL: i32 = 12; // memory_oom_control(9).oom_kill(3)
const V1_SCRATCH: i32 = 13; // memory.swap.max: read, not used
// cgroup v2
const V2_USAGE_USEC: i32 = 0; // cpu(2).usage_usec(1)              ┐ CPUStat
const V2_USER_USEC: i32 = 1; // cpu.user_usec(2)                   │
const V2_SYSTEM_USEC: i32 = 2; // cpu.system_usec(3)               │
const V2_NR_THROTTLED: i32 = 3; // cpu.nr_throttled(5)             │
const V2_THROTTLED_USEC: i32 = 4; // cpu.throttled_usec(6)         ┘
const V2_ANON: i32 = 5; // memory(4).anon(1)                        ┐ MemoryStat
const V2_FILE: i32 = 6; // memory.file(2)                           │
const V2_KERNEL_STACK: i32 = 7; // memory.kernel_stack(3)           │
const V2_SLAB: i32 = 8; // memory.slab(4)                           │
const V2_USAGE: i32 = 9; // memory.usage(32)                        │
const V2_SWAP_USAGE: i32 = 10; // memory.swap_usage(34)             ┘
const V2_OOM_KILL: i32 = 11; // memory_events(8).oom_kill(5)
const SLOTS_LEN: i32 = 14;

const SLOTS: usize = memory.data(8 * SLOTS_LEN, 16);
const GROUPS: usize = memory.data(4 * MAX_GROUP_DEPTH, 16);

// Input area, after the static data; grows with the largest input seen.
const inBase: usize = (__heap_base + 15) & ~(<usize>15);
let inCap: i32 = 0;

/** Address of the 42-f64 exchange area. */
export function buffer(): usize {
  return BUF;
}

/** ABI check for the loader: ABI << 16 | SAMPLE_LEN << 8 | RESULT_LEN. */
export function layout(): i32 {
  return (ABI << 16) | (SAMPLE_LEN << 8) | RESULT_LEN;
}

/** Makes room for `len` input bytes and returns their address (always the same). */
export function input(len: i32): usize {
  if (len > inCap) {
    const cap = len < 4096 ? 4096 : len;
    const need = inBase + <usize>cap;
    const have = <usize>memory.size() << 16;
    if (need > have) {
      const pages = <i32>((need - have + 0xffff) >> 16);
      if (memory.grow(pages) < 0) unreachable();
    }
    inCap = cap;
  }
  return inBase;
}

// --- wire walker ------------------------------------------------------------------------------------
// `pos` is the read position; a failed read sets `err` (and `errPos`, the start of the field). Callers
// check `err` after each read and return at once.

let pos: usize = 0;
let err: i32 = 0;
let errPos: usize = 0;
/** where the last tag started */
let tagAt: usize = 0;

/** The byte offset in the input of the field where the last error was found (its tag). */
export function errorAt(): i32 {
  return <i32>(errPos - inBase);
}

@inline function fail(code: i32): void {
  err = code;
  errPos = tagAt; // the start of the field the error is in
}

/** A varint of up to 10 bytes, its low 64 bits (as JavaScript's BinaryReader reads it). */
function varint(end: usize): u64 {
  let p = pos;
  let v: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    if (p >= end) {
      fail(E_TRUNCATED);
      return 0;
    }
    const b = <u64>load<u8>(p++);
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
    shift += 7;
    if (shift > 63) {
      fail(E_VARINT);
      return 0;
    }
  }
  pos = p;
  return v;
}

/** A tag: (field number << 3) | wire type, 32 bits, field number ≥ 1. */
function tag(end: usize): u32 {
  tagAt = pos;
  const t = varint(end);
  if (err != 0) return 0;
  if (t > 0xffffffff || (t >> 3) == 0) {
    fail(E_TAG);
    return 0;
  }
  return <u32>t;
}

/** Reads a length and returns the end of the length-delimited value, within `end`. */
function delimited(end: usize): usize {
  const len = varint(end);
  if (err != 0) return 0;
  if (len > <u64>(end - pos)) {
    fail(E_TRUNCATED);
    return 0;
  }
  return pos + <usize>len;
}

function fixed(n: usize, end: usize): void {
  if (end - pos < n) fail(E_TRUNCATED);
  else pos += n;
}

/** Skips the value of a field (tag `t` already read), groups included. */
function skip(t: u32, end: usize): void {
  switch (t & 7) {
    case 0:
      varint(end);
      break;
    case 1:
      fixed(8, end);
      break;
    case 2: {
      const e = delimited(end);
      if (err == 0) pos = e;
      break;
    }
    case 3:
      skipGroup(t >> 3, end);
      break;
    case 5:
      fixed(4, end);
      break;
    default: // 4: end group with no group open; 6, 7: no such wire type
      fail(E_WIRE_TYPE);
  }
}

/** Skips a group up to its end-group tag (nested groups on a stack: no recursion). */
function skipGroup(fieldNo: u32, end: usize): void {
  let depth: i32 = 0;
  store<u32>(GROUPS, fieldNo);
  while (true) {
    const t = tag(end);
    if (err != 0) return;
    const wt = t & 7;
    if (wt == 4) {
      if ((t >> 3) != load<u32>(GROUPS + (<usize>depth << 2))) {
        fail(E_GROUP);
        return;
      }
      if (depth == 0) return;
      depth--;
    } else if (wt == 3) {
      if (++depth == MAX_GROUP_DEPTH) {
        fail(E_DEPTH);
        return;
      }
      store<u32>(GROUPS + (<usize>depth << 2), t >> 3);
    } else {
      skip(t, end);
      if (err != 0) return;
    }
  }
}

@inline function slot(i: i32): u64 {
  return load<u64>(SLOTS + (<usize>i << 3));
}

/** Reads a varint into slot i. */
@inline function put(i: i32, end: usize): void {
  const v = varint(end);
  if (err == 0) store<u64>(SLOTS + (<usize>i << 3), v);
}

/** Zeroes slots [from, to): a message starts (again) from its defaults. */
@inline function clear(from: i32, to: i32): void {
  memory.fill(SLOTS + (<usize>from << 3), 0, <usize>(to - from) << 3);
}

// Tags: (field number << 3) | wire type; 0 varint, 2 length-delimited.
@inline function V(n: u32): u32 {
  return (n << 3) | 0;
}
@inline function L(n: u32): u32 {
  return (n << 3) | 2;
}

// --- cgroup v1 (io.containerd.cgroups.v1.Metrics) ---------------------------------------------------

function v1Metrics(end: usize): void {
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == L(3)) {
      const e = delimited(end);
      if (err == 0) v1Cpu(e);
    } else if (t == L(4)) {
      const e = delimited(end);
      if (err == 0) v1Memory(e);
    } else if (t == L(9)) {
      const e = delimited(end);
      if (err == 0) v1OomControl(e);
    } else skip(t, end);
    if (err != 0) return;
  }
}

/** CPUStat: usage(1) CPUUsage, throttling(2) Throttle. */
function v1Cpu(end: usize): void {
  clear(V1_TOTAL, V1_THR_TIME + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == L(1)) {
      const e = delimited(end);
      if (err == 0) v1CpuUsage(e);
    } else if (t == L(2)) {
      const e = delimited(end);
      if (err == 0) v1Throttle(e);
    } else skip(t, end);
    if (err != 0) return;
  }
}

/** CPUUsage: total(1), kernel(2), user(3); per_cpu(4) is skipped (packed or not). */
function v1CpuUsage(end: usize): void {
  clear(V1_TOTAL, V1_USER + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == V(1)) put(V1_TOTAL, end);
    else if (t == V(2)) put(V1_KERNEL, end);
    else if (t == V(3)) put(V1_USER, end);
    else skip(t, end);
    if (err != 0) return;
  }
}

/** Throttle: throttled_periods(2), throttled_time(3). */
function v1Throttle(end: usize): void {
  clear(V1_THR_PERIODS, V1_THR_TIME + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == V(2)) put(V1_THR_PERIODS, end);
    else if (t == V(3)) put(V1_THR_TIME, end);
    else skip(t, end);
    if (err != 0) return;
  }
}

/** MemoryStat: total_cache(18), total_rss(19), usage(33), swap(34), kernel(35) MemoryEntry. */
function v1Memory(end: usize): void {
  clear(V1_TOTAL_CACHE, V1_KMEM_MAX + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == V(18)) put(V1_TOTAL_CACHE, end);
    else if (t == V(19)) put(V1_TOTAL_RSS, end);
    else if (t == L(33)) {
      const e = delimited(end);
      if (err == 0) v1MemoryEntry(e, V1_USAGE, V1_MAX);
    } else if (t == L(34)) {
      const e = delimited(end);
      if (err == 0) v1MemoryEntry(e, V1_SWAP, V1_SCRATCH);
    } else if (t == L(35)) {
      const e = delimited(end);
      if (err == 0) v1MemoryEntry(e, V1_KMEM, V1_KMEM_MAX);
    } else skip(t, end);
    if (err != 0) return;
  }
}

/** MemoryEntry: usage(2) into slot `usage`, max(3) into slot `max`. */
function v1MemoryEntry(end: usize, usage: i32, max: i32): void {
  clear(usage, usage + 1);
  clear(max, max + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == V(2)) put(usage, end);
    else if (t == V(3)) put(max, end);
    else skip(t, end);
    if (err != 0) return;
  }
}

/** MemoryOomControl: oom_kill(3). */
function v1OomControl(end: usize): void {
  clear(V1_OOM_KILL, V1_OOM_KILL + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == V(3)) put(V1_OOM_KILL, end);
    else skip(t, end);
    if (err != 0) return;
  }
}

// --- cgroup v2 (io.containerd.cgroups.v2.Metrics) ---------------------------------------------------

function v2Metrics(end: usize): void {
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == L(2)) {
      const e = delimited(end);
      if (err == 0) v2Cpu(e);
    } else if (t == L(4)) {
      const e = delimited(end);
      if (err == 0) v2Memory(e);
    } else if (t == L(8)) {
      const e = delimited(end);
      if (err == 0) v2MemoryEvents(e);
    } else skip(t, end);
    if (err != 0) return;
  }
}

/** CPUStat: usage_usec(1), user_usec(2), system_usec(3), nr_throttled(5), throttled_usec(6). */
function v2Cpu(end: usize): void {
  clear(V2_USAGE_USEC, V2_THROTTLED_USEC + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == V(1)) put(V2_USAGE_USEC, end);
    else if (t == V(2)) put(V2_USER_USEC, end);
    else if (t == V(3)) put(V2_SYSTEM_USEC, end);
    else if (t == V(5)) put(V2_NR_THROTTLED, end);
    else if (t == V(6)) put(V2_THROTTLED_USEC, end);
    else skip(t, end);
    if (err != 0) return;
  }
}

/** MemoryStat: anon(1), file(2), kernel_stack(3), slab(4), usage(32), swap_usage(34). */
function v2Memory(end: usize): void {
  clear(V2_ANON, V2_SWAP_USAGE + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == V(1)) put(V2_ANON, end);
    else if (t == V(2)) put(V2_FILE, end);
    else if (t == V(3)) put(V2_KERNEL_STACK, end);
    else if (t == V(4)) put(V2_SLAB, end);
    else if (t == V(32)) put(V2_USAGE, end);
    else if (t == V(34)) put(V2_SWAP_USAGE, end);
    else skip(t, end);
    if (err != 0) return;
  }
}

/** MemoryEvents: oom_kill(5). */
function v2MemoryEvents(end: usize): void {
  clear(V2_OOM_KILL, V2_OOM_KILL + 1);
  while (pos < end) {
    const t = tag(end);
    if (err != 0) return;
    if (t == V(5)) put(V2_OOM_KILL, end);
    else skip(t, end);
    if (err != 0) return;
  }
}

// --- sample and delta -------------------------------------------------------------------------------

/** u64 → f64, rounded to nearest (f64.convert_i64_u), as Number(bigint). */
@inline function f(i: i32): f64 {
  return <f64>slot(i);
}
@inline function setCur(i: i32, v: f64): void {
  store<f64>(CUR + (<usize>i << 3), v);
}

function v1Sample(): void {
  setCur(CPU_TOTAL_NS, f(V1_TOTAL));
  setCur(CPU_USER_NS, f(V1_USER));
  setCur(CPU_SYSTEM_NS, f(V1_KERNEL));
  setCur(THROTTLED_PERIODS, f(V1_THR_PERIODS));
  setCur(THROTTLED_TIME_NS, f(V1_THR_TIME));
  setCur(MEM_RSS, f(V1_TOTAL_RSS));
  setCur(MEM_CACHE, f(V1_TOTAL_CACHE));
  const usage = f(V1_USAGE);
  const memsw = f(V1_SWAP);
  setCur(MEM_USAGE, usage);
  setCur(MEM_MAX_USAGE, f(V1_MAX));
  // v1 reports memory + swap; swap alone is the difference
  setCur(MEM_SWAP, memsw > usage ? memsw - usage : 0);
  setCur(MEM_KERNEL, f(V1_KMEM));
  setCur(MEM_KERNEL_MAX, f(V1_KMEM_MAX));
  setCur(CGROUP_VERSION, 1);
  out(R_OOM_KILLS, f(V1_OOM_KILL));
}

function v2Sample(): void {
  // microseconds → nanoseconds
  setCur(CPU_TOTAL_NS, f(V2_USAGE_USEC) * 1000);
  setCur(CPU_USER_NS, f(V2_USER_USEC) * 1000);
  setCur(CPU_SYSTEM_NS, f(V2_SYSTEM_USEC) * 1000);
  setCur(THROTTLED_PERIODS, f(V2_NR_THROTTLED));
  setCur(THROTTLED_TIME_NS, f(V2_THROTTLED_USEC) * 1000);
  setCur(MEM_RSS, f(V2_ANON));
  setCur(MEM_CACHE, f(V2_FILE));
  setCur(MEM_USAGE, f(V2_USAGE));
  setCur(MEM_MAX_USAGE, 0);
  setCur(MEM_SWAP, f(V2_SWAP_USAGE));
  setCur(MEM_KERNEL, f(V2_KERNEL_STACK) + f(V2_SLAB));
  setCur(MEM_KERNEL_MAX, 0);
  setCur(CGROUP_VERSION, 2);
  out(R_OOM_KILLS, f(V2_OOM_KILL));
}

/**
 * Decodes the `len` Metrics bytes written at input() (cgroup version `kind`), writes the current sample
 * (taken at `timeNs`), and the result against the previous sample when `prevIsSample` is 1; see the
 * header. Returns 0, or an error code (then errorAt() says where).
 */
export function fromMetrics(kind: i32, len: i32, prevIsSample: i32, timeNs: f64, mhzPerCore: f64): i32 {
  pos = inBase;
  tagAt = inBase;
  err = 0;
  errPos = inBase;
  if (len < 0 || len > inCap) return E_LENGTH;
  if (kind != 1 && kind != 2) return E_KIND;
  clear(0, SLOTS_LEN);
  const end = inBase + <usize>len;
  if (kind == 1) v1Metrics(end);
  else v2Metrics(end);
  if (err != 0) return err;
  if (kind == 1) v1Sample();
  else v2Sample();
  setCur(TIME_NS, timeNs);
  delta(prevIsSample, mhzPerCore);
  return 0;
}

@inline function prev(i: i32): f64 {
  return load<f64>(PREV + (<usize>i << 3));
}
@inline function cur(i: i32): f64 {
  return load<f64>(CUR + (<usize>i << 3));
}
@inline function out(i: i32, v: f64): void {
  store<f64>(OUT + (<usize>i << 3), v);
}
@inline function pct(used: f64, dt: f64): f64 {
  return used > 0 ? used / dt * 100 : 0;
}

/** The result from the two samples in the exchange area (the oracle's arithmetic, in its order). */
function delta(prevIsSample: i32, mhzPerCore: f64): void {
  const havePrev = prevIsSample != 0 && (prev(TIME_NS) > 0 || prev(CPU_TOTAL_NS) > 0);
  const dt: f64 = havePrev ? cur(TIME_NS) - prev(TIME_NS) : 0;
  let total: f64 = 0;
  let user: f64 = 0;
  let system: f64 = 0;
  if (dt > 0) {
    total = pct(cur(CPU_TOTAL_NS) - prev(CPU_TOTAL_NS), dt);
    user = pct(cur(CPU_USER_NS) - prev(CPU_USER_NS), dt);
    system = pct(cur(CPU_SYSTEM_NS) - prev(CPU_SYSTEM_NS), dt);
  }
  out(R_CPU_PERCENT, total);
  out(R_CPU_USER_PERCENT, user);
  out(R_CPU_SYSTEM_PERCENT, system);
  out(R_CPU_TOTAL_TICKS, total / 100 * mhzPerCore);
  out(R_THROTTLED_PERIODS, cur(THROTTLED_PERIODS));
  out(R_THROTTLED_TIME_NS, cur(THROTTLED_TIME_NS));
  out(R_MEM_RSS, cur(MEM_RSS));
  out(R_MEM_CACHE, cur(MEM_CACHE));
  out(R_MEM_USAGE, cur(MEM_USAGE));
  out(R_MEM_MAX_USAGE, cur(MEM_MAX_USAGE));
  out(R_MEM_SWAP, cur(MEM_SWAP));
  out(R_MEM_KERNEL, cur(MEM_KERNEL));
  out(R_MEM_KERNEL_MAX, cur(MEM_KERNEL_MAX));
}
