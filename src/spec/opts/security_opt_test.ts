import { assertEquals } from "../../../tests/harness/assert.ts";
import { exampleInput } from "../example.ts";
import { baseSpec } from "./base.ts";
import { withPrivileged } from "./privileged.ts";
import { withSecurityOpt } from "./security_opt.ts";

const nnp = (cfg: Record<string, string[] | boolean>) => {
  const spec = baseSpec();
  const i = exampleInput(cfg);
  withPrivileged(spec, i);
  withSecurityOpt(spec, i);
  return spec.process.noNewPrivileges;
};

Deno.test("withSecurityOpt: no-new-privileges on for privileged tasks too; :false turns it off", () => {
  assertEquals(nnp({}), true);
  assertEquals(nnp({ privileged: true }), false);
  assertEquals(nnp({ privileged: true, security_opt: ["no-new-privileges"] }), true);
  assertEquals(nnp({ security_opt: ["no-new-privileges:false"] }), false);
});
