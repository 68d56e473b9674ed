/**
 * The fault summary: one row per fault scenario (what it did, what was lost, whether the plugin crashed),
 * recorded by the fault tests into the run's dir and printed as a table by scripts/test-report.ts.
 *
 * @module
 */

/** One row of the fault summary. */
export interface SummaryRow {
  scenario: string;
  count: number;
  lost: number;
  crashed: number;
  note?: string;
}

/**
 * Formats rows as a fixed-width table.
 *
 * @example
 * ```ts
 * formatTable([{ scenario: "plugin SIGKILL", count: 20, lost: 0, crashed: 0 }]);
 * ```
 */
export function formatTable(rows: SummaryRow[]): string {
  const head = ["scenario", "count", "lost", "crashed", "note"];
  const cells = rows.map((
    r,
  ) => [r.scenario, String(r.count), String(r.lost), String(r.crashed), r.note ?? ""]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.map((x, i) => (i >= 1 && i <= 3 ? x.padStart(w[i]) : x.padEnd(w[i]))).join(" | ");
  return [line(head), w.map((n) => "-".repeat(n)).join("-|-"), ...cells.map(line)].join("\n");
}
