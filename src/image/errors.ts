/**
 * The one error type of image pulls: what went wrong (`kind`), for which reference and registry.
 *
 * @module
 */
import { redact } from "../log/hclog.ts";

/** Why a pull failed. */
export type PullErrorKind =
  | "invalid" // the reference does not parse
  | "config" // a hosts.toml or credential setting is wrong
  | "auth" // credentials missing, wrong or refused
  | "permission" // the plugin's sandbox does not allow something (e.g. running a credential helper)
  | "not_found" // the registry has no such repository, tag or blob
  | "unreachable" // connection refused, DNS, TLS handshake
  | "registry" // the registry answered with an unexpected status or content
  | "platform" // no manifest for the wanted platform
  | "digest" // content did not match its digest (or size)
  | "timeout" // image_pull_timeout passed
  | "canceled" // the caller gave up
  | "containerd"; // containerd refused a step

/**
 * A failed pull. The message always names the reference and the registry and never a secret (it is
 * passed through {@linkcode redact}).
 *
 * @example
 * ```ts
 * const e = new PullError("not_found", "127.0.0.1:5000/cdrv/nope:1", "127.0.0.1:5000", "manifest unknown");
 * e.message; // 'pull 127.0.0.1:5000/cdrv/nope:1 from registry 127.0.0.1:5000: manifest unknown'
 * ```
 */
export class PullError extends Error {
  constructor(
    readonly kind: PullErrorKind,
    readonly ref: string,
    readonly registry: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(redact(`pull ${ref} from registry ${registry}: ${detail}`), options);
    this.name = "PullError";
  }
}
