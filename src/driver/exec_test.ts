import { assertEquals } from "../../tests/harness/assert.ts";
import { execStartReason } from "./exec.ts";
import { execStatusMessage } from "./exec_stream.ts";

const OCI = "OCI runtime exec failed: exec failed: unable to start container process: ";

Deno.test("execStartReason: runc's reason without its wrapping", () => {
  const cases: [string, string][] = [
    [
      `${OCI}exec: "/nonexistent": stat /nonexistent: no such file or directory: unknown`,
      'exec: "/nonexistent": no such file or directory',
    ],
    [
      `${OCI}exec: "ls": executable file not found in $PATH: unknown`,
      'exec: "ls": executable file not found in $PATH',
    ],
    [`${OCI}exec: "/etc/passwd": permission denied: unknown`, 'exec: "/etc/passwd": permission denied'],
    [
      `${OCI}chdir to cwd ("/work/dir") set in config.json failed: no such file or directory: unknown`,
      'chdir to cwd ("/work/dir") set in config.json failed: no such file or directory',
    ],
    ["cannot exec in a stopped state: unknown", "cannot exec in a stopped state"],
    ["  unknown  ", "unknown"],
  ];
  for (const [details, want] of cases) assertEquals(execStartReason(details), want, details);
});

Deno.test("execStatusMessage: fits Nomad's websocket close reason and avoids the words it reads as a normal end", () => {
  const fits = 'exec: "ls": executable file not found in $PATH';
  assertEquals(execStatusMessage(9, fits), fits);
  const long = `exec: "/${"x".repeat(200)}": no such file or directory`;
  const m = execStatusMessage(9, long);
  const reason = `rpc error: code = FailedPrecondition desc = ${m}`;
  assertEquals(new TextEncoder().encode(reason).length <= 123, true, reason);
  assertEquals(m.endsWith("…"), true);
  assertEquals(
    execStatusMessage(13, "read: file already closed (EOF)"),
    "read: file already shut (end of file)",
  );
  // Multi-byte text is cut on a character boundary.
  const wide = execStatusMessage(5, "é".repeat(100));
  assertEquals(wide.endsWith("é…"), true);
});
