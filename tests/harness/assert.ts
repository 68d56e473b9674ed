/**
 * The few assertions the tests use (jsr:@std/assert is unreachable here), on node:util's deep equality.
 *
 * @module
 */
import { inspect, isDeepStrictEqual } from "node:util";

/** Thrown when an assertion fails. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Fails unless `cond` is truthy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

/** Fails unless `actual` deep-equals `expected`. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}values differ\n  actual:   ${inspect(actual, { depth: 6 })}\n  expected: ${
        inspect(expected, { depth: 6 })
      }`,
    );
  }
}

/** Fails when `actual` deep-equals `expected`. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (isDeepStrictEqual(actual, expected)) {
    throw new AssertionError(`${msg ? msg + ": " : ""}expected a value other than ${inspect(expected)}`);
  }
}

/** Fails unless `s` matches `re`. */
export function assertMatch(s: string, re: RegExp, msg?: string): void {
  if (!re.test(s)) {
    throw new AssertionError(`${msg ? msg + ": " : ""}${JSON.stringify(s)} does not match ${re}`);
  }
}

/** Fails unless `fn` throws; returns the error. An error class narrows what counts. */
export function assertThrows(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any -- any error class
  cls?: new (...a: any[]) => Error,
  includes?: string,
): Error {
  try {
    fn();
  } catch (e) {
    check(e, cls, includes);
    return e as Error;
  }
  throw new AssertionError("expected the function to throw");
}

/** Fails unless the promise from `fn` rejects; returns the error. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any -- any error class
  cls?: new (...a: any[]) => Error,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    check(e, cls, includes);
    return e as Error;
  }
  throw new AssertionError("expected the promise to reject");
}

// deno-lint-ignore no-explicit-any -- any error class
function check(e: unknown, cls?: new (...a: any[]) => Error, includes?: string): void {
  if (cls && !(e instanceof cls)) {
    throw new AssertionError(`expected ${cls.name}, got ${inspect(e)}`);
  }
  if (includes !== undefined && !String((e as Error)?.message ?? e).includes(includes)) {
    throw new AssertionError(
      `error message ${JSON.stringify((e as Error)?.message)} lacks ${JSON.stringify(includes)}`,
    );
  }
}
