// Runs last among the fault tests (files run in name order): prints the table the scenarios recorded —
// scenario, how many tasks / payloads / checks, how many were lost (tasks, log lines, leaked resources or
// policy breaches, per the note), and whether the plugin crashed.
import { formatTable, summaryRows } from "./helpers.ts";

Deno.test("fault summary", async () => {
  const rows = await summaryRows();
  console.log(rows.length ? `\nfault summary\n${formatTable(rows)}\n` : "no fault scenario recorded a row");
});
