import { assertEquals } from "../tests/harness/assert.ts";
import { junitTests } from "./test-report.ts";

// The shape `deno test --junit-path` writes (Deno 2.9): steps as test cases named "<test> > <step>".
const XML = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="6" failures="3" errors="0" time="1.266">
    <testsuite name="./a_test.ts" tests="6" disabled="1" errors="0" failures="3">
        <testcase name="one" classname="./a_test.ts" time="0.001" line="1" col="6">
        </testcase>
        <testcase name="two" classname="./a_test.ts" time="0.111" line="2" col="6">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
        <testcase name="three" classname="./a_test.ts" time="0.019" line="3" col="6">
            <failure message="Uncaught Error: boom">Error: boom</failure>
        </testcase>
        <testcase name="ign" classname="./a_test.ts" time="0.000" line="4" col="6">
            <skipped/>
        </testcase>
        <testcase name="two &gt; s1" classname="./a_test.ts" time="0.001" line="2" col="41">
        </testcase>
        <testcase name="two &gt; s2" classname="./a_test.ts" time="0.002" line="2" col="71">
            <failure message="Uncaught Error: x">Error: x</failure>
        </testcase>
    </testsuite>
    <testsuite name="./b_test.ts" tests="1" disabled="0" errors="0" failures="0">
        <testcase name="alone" classname="./b_test.ts" time="0.001" line="1" col="6">
        </testcase>
        <testcase name="with a helper&apos;s steps" classname="./b_test.ts" time="0.001" line="2" col="6">
        </testcase>
    </testsuite>
    <testsuite name="./helper.ts" tests="1" disabled="0" errors="0" failures="0">
        <testcase name="with a helper&apos;s steps &gt; made by the helper" classname="./helper.ts" time="0.001" line="9" col="6">
            <failure message="x">x</failure>
        </testcase>
    </testsuite>
</testsuites>`;

Deno.test("junitTests: top-level tests counted, steps (wherever written) folded into their test, skipped ones left out", () => {
  assertEquals(junitTests(XML), [
    { name: "./a_test.ts: one", failed: false, failedSteps: [] },
    { name: "./a_test.ts: two", failed: true, failedSteps: ["s2"] },
    { name: "./a_test.ts: three", failed: true, failedSteps: [] },
    { name: "./b_test.ts: alone", failed: false, failedSteps: [] },
    // A step is written under the file that called t.step (here a shared helper's), not its test's.
    { name: "./b_test.ts: with a helper's steps", failed: true, failedSteps: ["made by the helper"] },
  ]);
});

Deno.test("junitTests: a report with no test", () => {
  assertEquals(junitTests(`<?xml version="1.0"?><testsuites name="deno test" tests="0"></testsuites>`), []);
});
