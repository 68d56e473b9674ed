/**
 * After `deno test`: counts the tests from deno's own JUnit report (top-level tests; a test fails when it
 * or one of its steps fails), prints the failed ones with their failing steps, and the fault summary table
 * the fault tests recorded. Its last line is for scripts/test.sh: `<passed> <failed>`.
 *
 *   deno run --allow-read scripts/test-report.ts <junit.xml> [fault-summary.jsonl]
 *
 * A missing or unreadable report counts as one failure (the test run died before writing it).
 *
 * @module
 */
import { XMLParser } from "fast-xml-parser";
import { formatTable, type SummaryRow } from "../tests/fault/summary.ts";

interface TestCase {
  name: string;
  failure?: unknown;
  skipped?: unknown;
}

/** The top-level tests of a JUnit report, each with its failing steps. */
export function junitTests(xml: string): { name: string; failed: boolean; failedSteps: string[] }[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    isArray: (name) => name === "testsuite" || name === "testcase",
  });
  const doc = parser.parse(xml);
  // Deno writes a test's steps as test cases named "<test> > <step>", and under the file that called
  // t.step (a shared helper's file, not always the test's): steps are matched by name over the whole report.
  const cases: (TestCase & { suite: string })[] = (doc.testsuites?.testsuite ?? [])
    .flatMap((suite: { name: string; testcase?: TestCase[] }) =>
      (suite.testcase ?? []).map((c) => ({ ...c, suite: suite.name }))
    );
  const isStepOf = (c: TestCase, p: TestCase) => p !== c && c.name.startsWith(`${p.name} > `);
  const out: { name: string; failed: boolean; failedSteps: string[] }[] = [];
  for (const t of cases.filter((c) => !cases.some((p) => isStepOf(c, p)))) {
    if (t.skipped !== undefined) continue;
    const steps = cases.filter((c) => isStepOf(c, t) && c.failure !== undefined);
    out.push({
      name: `${t.suite}: ${t.name}`,
      failed: t.failure !== undefined || steps.length > 0,
      failedSteps: steps.map((s) => s.name.slice(t.name.length + 3)),
    });
  }
  return out;
}

async function faultSummary(path: string | undefined): Promise<SummaryRow[]> {
  if (!path) return [];
  try {
    return (await Deno.readTextFile(path)).split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

if (import.meta.main) {
  const [junitPath, summaryPath] = Deno.args;
  const rows = await faultSummary(summaryPath);
  if (rows.length) console.log(`\nfault summary\n${formatTable(rows)}\n`);
  let xml: string | undefined;
  try {
    xml = await Deno.readTextFile(junitPath);
  } catch (e) {
    console.log(
      `no JUnit report at ${junitPath} (${(e as Error).message}): the test run died before writing it`,
    );
  }
  if (xml === undefined) {
    console.log("0 1");
  } else {
    const tests = junitTests(xml);
    for (const t of tests.filter((t) => t.failed)) {
      console.log(`FAILED ${t.name}${t.failedSteps.length ? ` (steps: ${t.failedSteps.join("; ")})` : ""}`);
    }
    const failed = tests.filter((t) => t.failed).length;
    console.log(`${tests.length - failed} ${failed}`);
  }
}
