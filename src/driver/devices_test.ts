import { assertEquals } from "../../tests/harness/assert.ts";
import { devPaths } from "./devices.ts";

Deno.test("devPaths: every entry of `ls -1 -R /dev`, subdirectories included, pts/shm/mqueue skipped", () => {
  const ls = [
    "/dev:",
    "cpu",
    "fuse",
    "net",
    "pts",
    "shm",
    "",
    "/dev/cpu:",
    "0",
    "",
    "/dev/cpu/0:",
    "cpuid",
    "",
    "/dev/net:",
    "tun",
    "",
    "/dev/pts:",
    "0",
    "ptmx",
    "",
    "/dev/shm:",
    "x",
    "",
  ].join("\n");
  assertEquals(devPaths(ls), [
    "/dev/cpu",
    "/dev/fuse",
    "/dev/net",
    "/dev/cpu/0",
    "/dev/cpu/0/cpuid",
    "/dev/net/tun",
  ]);
});
