// 10 000 fuzzed cty-msgpack payloads into one plugin process through its gRPC API: half into SetConfig
// (the plugin block), half into StartTask (a task's `config {}`). Payloads are random bytes, valid
// encodings mutated byte-wise (flip, overwrite with msgpack markers, insert, delete, truncate,
// duplicate, splice), structure-aware values of the right shape with random contents, and maps with
// wrong types in random attributes. Each payload is also decoded in this process with the same decoder:
// what it refuses, the plugin must refuse with INVALID_ARGUMENT and the same message (which names the
// option, or "(block)" and the decoding problem). Afterwards the process still answers and nothing was
// created in containerd. Deterministic: the seed is printed and can be set with CDRV_FUZZ_SEED.
import fc from "fast-check";
import * as grpc from "@grpc/grpc-js";
import { encode } from "@msgpack/msgpack";
import { assert, assertEquals } from "../harness/assert.ts";
import { details, purgeNamespace } from "../harness/driver.ts";
import { call } from "../harness/plugin.ts";
import { decodePluginConfig, decodeTaskConfigValue, pluginSpec } from "../../src/driver/config.ts";
import { readTaskConfig, taskConfigType } from "../../src/spec/task_config.ts";
import { impliedType } from "../../src/schema/hclspec.ts";
import { type CtyType, encodeCty } from "../../src/plugin/cty.ts";
import type { CtyValue } from "../../src/schema/values.ts";
import { parseReference } from "../../src/image/reference.ts";
import {
  alive,
  assertNoSecrets,
  crashed,
  faultDriver,
  inventory,
  type LeanTask,
  leanTask,
  pluginConfigBytes,
  record,
} from "./helpers.ts";

const PER_TARGET = Number(Deno.env.get("CDRV_FUZZ_RUNS") ?? 5000);
const SEED = Number(Deno.env.get("CDRV_FUZZ_SEED") ?? Date.now() % 2 ** 31);
const CLOSED = `127.0.0.1:${Number(Deno.env.get("CDRV_TEST_PORT_BASE") ?? 15000) + 99}`;
/** An image nobody serves: a valid task config fails fast at the pull. */
const IMAGE = `${CLOSED}/cdrv/fuzz:1`;

const pluginType = impliedType(pluginSpec);
/**
 * Found by this test: a map key that is not valid UTF-8 decodes to a lone surrogate; the error naming it
 * then crashed the plugin (grpc-js percent-encodes status details with encodeURI, which throws URIError).
 */
const LONE_SURROGATE_KEY = new Uint8Array([0x81, 0xa3, 0xed, 0xa0, 0x80, 0xc0]);
const MARKERS = [
  0x00,
  0x7f,
  0x80,
  0x8f,
  0x90,
  0xa0,
  0xbf,
  0xc0,
  0xc1,
  0xc2,
  0xc3,
  0xc4,
  0xcb,
  0xcf,
  0xd3,
  0xd4,
];
MARKERS.push(0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff, 0xc7, 0xc9, 0xd5, 0xd8);

// --- generators ------------------------------------------------------------------------------------

const WORDS = [
  "",
  " ",
  "/",
  "..",
  "../../etc",
  "/etc/shadow",
  "1G",
  "12Q",
  "-1",
  "0",
  "1s",
  "5m",
  "-5m",
  "ALL",
  "host",
  "private",
  "bind",
  "tmpfs",
  "z",
  "rw",
  "NET_ADMIN",
  "nofile=1024:2048",
  "\u0000",
  "é",
  "e\u0301",
  "x".repeat(300),
];
const text = fc.oneof(
  fc.constantFrom(...WORDS),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 6 }),
);
const num = fc.oneof(
  fc.integer({ min: -3, max: 70000 }),
  fc.double({ noNaN: true }),
  fc.constantFrom(2 ** 53, -(2 ** 63), 2 ** 64, Infinity, -Infinity),
);

/** A value of the cty type, contents random (null anywhere). */
function typed(t: CtyType, depth = 0): fc.Arbitrary<CtyValue> {
  const inner = (): fc.Arbitrary<CtyValue> => {
    if (t === "string") return text;
    if (t === "number") return num;
    if (t === "bool") return fc.boolean();
    if (t === "dynamic") return text;
    if ("list" in t) return fc.array(typed(t.list, depth + 1), { maxLength: 3 });
    if ("set" in t) return fc.array(typed(t.set, depth + 1), { maxLength: 3 });
    if ("map" in t) {
      return fc.dictionary(
        fc.constantFrom("a", "b", "nofile", "net.core.somaxconn", ""),
        typed(t.map, depth + 1),
        { maxKeys: 3 },
      );
    }
    if ("tuple" in t) return fc.tuple(...t.tuple.map((x) => typed(x, depth + 1)));
    const keys = Object.keys(t.object);
    return fc.record(Object.fromEntries(keys.map((k) => [k, typed(t.object[k], depth + 1)])), {
      requiredKeys: keys,
    });
  };
  if (depth === 0) return inner();
  // Attributes mostly null (as in real configs), so that more values get past decoding to the checks.
  return fc.oneof({ weight: depth === 1 ? 3 : 1, arbitrary: fc.constant(null) }, {
    weight: 2,
    arbitrary: inner(),
  });
}

/** A msgpack value of any shape (for wrong types). */
const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    text,
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(text, tie("v"), { maxKeys: 3 }),
  ),
})).v;

/** Every attribute present (nil), some replaced by values of any type, sometimes an extra key. */
function wrongTypes(t: CtyType): fc.Arbitrary<Uint8Array> {
  const keys = Object.keys((t as { object: Record<string, CtyType> }).object);
  return fc.tuple(
    fc.dictionary(fc.constantFrom(...keys), anyValue, { minKeys: 1, maxKeys: 3 }),
    fc.option(fc.tuple(text, anyValue), { freq: 5 }),
  ).map(([over, extra]) => {
    const obj: Record<string, unknown> = Object.fromEntries(keys.map((k) => [k, null]));
    Object.assign(obj, over);
    if (extra) obj[extra[0]] = extra[1];
    return encode(obj);
  });
}

type Op = { kind: number; pos: number; byte: number; len: number; bytes: Uint8Array };
const op = fc.record({
  kind: fc.integer({ min: 0, max: 7 }),
  pos: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
  len: fc.integer({ min: 1, max: 16 }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

function mutate(src: Uint8Array, ops: Op[], other: Uint8Array): Uint8Array {
  let b = Array.from(src);
  for (const o of ops) {
    const p = b.length ? o.pos % b.length : 0;
    switch (o.kind) {
      case 0: // flip a bit
        if (b.length) b[p] ^= 1 << (o.byte % 8);
        break;
      case 1: // overwrite with a msgpack marker
        if (b.length) b[p] = MARKERS[o.byte % MARKERS.length];
        break;
      case 2: // overwrite with a random byte
        if (b.length) b[p] = o.byte;
        break;
      case 3: // insert bytes
        b.splice(p, 0, ...o.bytes);
        break;
      case 4: // delete a range
        b.splice(p, o.len);
        break;
      case 5: // truncate
        b = b.slice(0, p);
        break;
      case 6: // duplicate a range
        b.splice(p, 0, ...b.slice(p, p + o.len));
        break;
      case 7: // splice in part of another valid encoding
        b.splice(
          p,
          o.len,
          ...other.slice(o.pos % (other.length || 1), (o.pos % (other.length || 1)) + o.len),
        );
        break;
    }
  }
  return new Uint8Array(b);
}

/** Random bytes, mutated valid encodings, typed values, wrong types: one payload arbitrary. */
function payloads(
  t: CtyType,
  valid: Uint8Array[],
  typedArb: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<Uint8Array> {
  const validArb = fc.oneof(fc.constantFrom(...valid), typedArb);
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(validArb, fc.array(op, { minLength: 1, maxLength: 4 }), validArb).map(([v, ops, o]) =>
      mutate(v, ops, o)
    ),
    typedArb,
    wrongTypes(t),
  );
}

// --- classification ----------------------------------------------------------------------------------

interface Tally {
  sent: number;
  configErrors: number;
  sameMessage: number;
  otherClear: number;
  accepted: number;
  skipped: number;
}

function tally(): Tally {
  return { sent: 0, configErrors: 0, sameMessage: 0, otherClear: 0, accepted: 0, skipped: 0 };
}

// The option may itself hold quotes (an unknown attribute's name is quoted as it came).
const CONFIG_ERROR = /^(plugin|task) config ".*": \S/s;
const CLEAR_OTHER = /^pull .+ from registry \S+: \S|^task config "|^plugin config "/s;

/** What the same decoder says here: undefined when it accepts the payload. */
function localError(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Checks one RPC outcome against the local verdict; throws (fast-check then shrinks) when unclear. */
function judge(t: Tally, local: string | undefined, err: grpc.ServiceError | undefined): void {
  t.sent++;
  if (local !== undefined) {
    assert(err, `accepted a payload the decoder refuses (${local})`);
    assertEquals(err.code, grpc.status.INVALID_ARGUMENT, `status for ${JSON.stringify(err.details)}`);
    assert(CONFIG_ERROR.test(err.details), `not a config error: ${JSON.stringify(err.details)}`);
    t.configErrors++;
    // The plugin redacts registered secrets and replaces lone surrogates (which grpc-js cannot send:
    // an unpaired one once crashed the plugin); otherwise the texts are the same.
    if (err.details === local.toWellFormed()) t.sameMessage++;
    else assert(err.details.includes("[REDACTED]"), `message differs: ${err.details} vs ${local}`);
    return;
  }
  if (!err) {
    t.accepted++;
    return;
  }
  assert(
    CLEAR_OTHER.test(err.details),
    `unclear error (${grpc.status[err.code]}): ${JSON.stringify(err.details)}`,
  );
  if (err.code === grpc.status.INVALID_ARGUMENT) t.configErrors++;
  else t.otherClear++;
}

async function rpc(fn: () => Promise<unknown>): Promise<grpc.ServiceError | undefined> {
  try {
    await fn();
    return undefined;
  } catch (e) {
    const err = e as grpc.ServiceError;
    assert(
      typeof err.code === "number" && err.code !== grpc.status.UNAVAILABLE,
      `transport failure: ${details(e)}`,
    );
    return err;
  }
}

Deno.test({
  name: `fuzz: ${2 * PER_TARGET} mutated cty-msgpack payloads into SetConfig and StartTask`,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    console.log(`fast-check seed ${SEED} (CDRV_FUZZ_SEED), ${PER_TARGET} runs per RPC`);
    const d = await faultDriver({ config: { registry_hosts_dir: "", stats_interval: "1s" } });
    const good: Record<string, CtyValue> = {
      containerd_address: d.sock,
      namespace: d.namespace,
      snapshotter: "overlayfs",
      registry_hosts_dir: "",
    };
    const goodBytes = pluginConfigBytes(good);
    const task: LeanTask = await leanTask({ config: { image: IMAGE } });
    const setT = tally();
    const startT = tally();
    let crashedN = 0;
    try {
      // --- SetConfig ---------------------------------------------------------------------------------
      const validPlugin = [
        goodBytes,
        pluginConfigBytes({
          ...good,
          stats_interval: "5s",
          allow_privileged: false,
          gc: { image: false, image_delay: "1m" },
        }),
        pluginConfigBytes({
          ...good,
          auth: { username: "u", password: "plugin-pw-fault-0815", helper: null },
          volumes: { enabled: false, selinuxlabel: "z" },
        }),
      ];
      // Typed plugin blocks keep our socket and namespace most of the time, so an accepted one is harmless.
      const typedPlugin = typed(pluginType).map((v) => {
        const o = v as Record<string, CtyValue>;
        return pluginConfigBytes({ ...o, containerd_address: d.sock, namespace: d.namespace });
      });
      let n = 0;
      await fc.assert(
        fc.asyncProperty(payloads(pluginType, validPlugin, typedPlugin), async (bytes) => {
          const local = localError(() => decodePluginConfig(bytes));
          const err = await rpc(() =>
            call(d.p.base, "setConfig", { msgpackConfig: bytes, pluginApiVersion: "0.1.0" })
          );
          // The plugin also checks the socket path against its sandbox, which this process lacks.
          if (
            local === undefined && err?.code === grpc.status.INVALID_ARGUMENT &&
            /containerd_address/.test(err.details)
          ) {
            setT.sent++;
            setT.configErrors++;
          } else {
            judge(setT, local, err);
          }
          if (!err) {
            await call(d.p.base, "setConfig", { msgpackConfig: goodBytes, pluginApiVersion: "0.1.0" });
          }
          if (++n % 500 === 0) assert(alive(d.p), `plugin died after ${n} SetConfig payloads`);
        }),
        { numRuns: PER_TARGET, seed: SEED, endOnFailure: true, examples: [[LONE_SURROGATE_KEY]] },
      );
      await call(d.p.base, "setConfig", { msgpackConfig: goodBytes, pluginApiVersion: "0.1.0" });

      // --- StartTask ---------------------------------------------------------------------------------
      const validTask = [
        encodeCty({ image: IMAGE }, taskConfigType),
        encodeCty({
          image: IMAGE,
          image_pull_timeout: "2s",
          command: "/bin/sh",
          args: ["-c", "echo hi"],
          cap_add: ["NET_ADMIN"],
          shm_size: "64M",
          mounts: [{ type: "tmpfs", target: "/scratch", source: null, options: ["size=1m"] }],
          ulimit: [{ nofile: "1024:2048" }],
          auth: { username: "u", password: "wrong-pw-fault-4711" },
        }, taskConfigType),
      ];
      const typedTask = fc.tuple(typed(taskConfigType), fc.boolean()).map(([v, keep]) => {
        const o = v as Record<string, CtyValue>;
        return encodeCty({ ...o, image: keep ? IMAGE : o.image }, taskConfigType);
      });
      let seq = 0;
      await fc.assert(
        fc.asyncProperty(payloads(taskConfigType, validTask, typedTask), async (bytes) => {
          const local = localError(() => readTaskConfig(decodeTaskConfigValue(bytes)));
          if (local === undefined) {
            // Valid: the plugin would pull. Only send it when the registry is on 127.0.0.1 (no DNS,
            // no network); anything there fails fast (a closed port, or no such repository).
            const image = (readTaskConfig(decodeTaskConfigValue(bytes))).image;
            const domain = localError(() => parseReference(image)) ? "" : parseReference(image).domain;
            if (domain !== "" && !/^127\.\d+\.\d+\.\d+(:\d+)?$/.test(domain)) {
              startT.skipped++;
              return;
            }
          }
          const cfg = {
            ...task.config,
            id: `${task.config.allocId}/fz/${(++seq).toString(16)}`,
            msgpackDriverConfig: bytes,
          };
          const err = await rpc(() => call(d.p.driver, "startTask", { task: cfg }, 30_000));
          judge(startT, local, err);
          if (!err) await d.destroy(cfg.id, true);
          if (seq % 500 === 0) assert(alive(d.p), `plugin died after ${seq} StartTask payloads`);
        }),
        { numRuns: PER_TARGET, seed: SEED + 1, endOnFailure: true, examples: [[LONE_SURROGATE_KEY]] },
      );

      // Still answering, and nothing was created.
      assert(alive(d.p), "the plugin is still running");
      await call(d.p.base, "pluginInfo", {});
      await call(d.p.driver, "capabilities", {});
      const inv = await inventory(d.sock, d.namespace);
      assertEquals(inv, {
        containers: [],
        tasks: [],
        snapshots: [],
        active: [],
        leases: [],
        content: [],
        images: [],
      }, "in containerd");
      assertNoSecrets(d.p.stderr);
      for (const [what, t] of [["SetConfig", setT], ["StartTask", startT]] as const) {
        console.log(
          `${what}: ${t.sent} sent, ${t.configErrors} config errors (${t.sameMessage} with the decoder's exact message), ` +
            `${t.otherClear} other clear errors, ${t.accepted} accepted, ${t.skipped} valid but not local (not sent)`,
        );
      }
    } catch (e) {
      crashedN = (await crashed(d.p)) ? 1 : 0;
      console.log(`plugin stderr (last 10 lines):\n${d.p.stderr.slice(-10).join("\n")}`);
      throw e;
    } finally {
      await record({
        scenario: "fuzz SetConfig",
        count: setT.sent,
        lost: 0,
        crashed: crashedN,
        note: `${setT.configErrors} config errors, ${setT.accepted} accepted`,
      });
      await record({
        scenario: "fuzz StartTask",
        count: startT.sent,
        lost: 0,
        crashed: crashedN,
        note:
          `${startT.configErrors} config errors, ${startT.otherClear} pull errors, ${startT.accepted} accepted, ${startT.skipped} skipped`,
      });
      await d.close();
      await task.cleanup();
      await purgeNamespace(d.namespace);
    }
  },
});
