/** The plugin's name as Nomad knows it (`driver = "containerd-driver"`). */
export const PLUGIN_NAME = "containerd-driver";
/** The plugin's version, reported in PluginInfo, the fingerprint and `--version`. */
export const PLUGIN_VERSION = "0.1.0";

// scripts/build.sh replaces this stamp in the bundle with the commit it was built from.
const COMMIT_STAMP = "@CDRV_COMMIT@";
/** The git commit the running build came from ("unknown" when run from source). */
export const PLUGIN_COMMIT: string = COMMIT_STAMP.startsWith("@") ? "unknown" : COMMIT_STAMP;

/**
 * The `--version` line: plugin version, git commit and the Deno runtime it runs on.
 *
 * @example
 * ```ts
 * versionLine("2.9.6"); // "containerd-driver 0.1.0 (commit unknown) deno 2.9.6"
 * ```
 */
export function versionLine(denoVersion: string): string {
  return `${PLUGIN_NAME} ${PLUGIN_VERSION} (commit ${PLUGIN_COMMIT}) deno ${denoVersion}`;
}
