/**
 * process.env: the image's Env, then Nomad's task env over it (Nomad wins), PATH defaulted as Docker does,
 * HOME from the resolved user when neither sets it.
 *
 * @module
 */
import type { SpecOpt } from "../input.ts";

/** Docker's default PATH for Linux containers. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Merges `KEY=value` lists and maps, later ones winning, keeping first-seen order.
 *
 * @example
 * ```ts
 * mergeEnv(["A=1", "B=2"], { B: "3", C: "4" }); // ["A=1", "B=3", "C=4"]
 * ```
 */
export function mergeEnv(image: readonly string[], nomad: Record<string, string>): string[] {
  const m = new Map<string, string>();
  for (const kv of image) {
    const i = kv.indexOf("=");
    if (i <= 0) continue;
    m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  for (const k of Object.keys(nomad).sort()) m.set(k, nomad[k]);
  return [...m].map(([k, v]) => `${k}=${v}`);
}

/** Sets process.env. */
export const withEnv: SpecOpt = (spec, input) => {
  const env = mergeEnv(input.image.Env ?? [], input.nomad.env);
  const has = (k: string) => env.some((e) => e.startsWith(k + "="));
  if (!has("PATH")) env.unshift(`PATH=${DEFAULT_PATH}`);
  if (!has("HOME") && input.resolvedUser?.home) env.push(`HOME=${input.resolvedUser.home}`);
  spec.process.env = env;
};
