/**
 * A D1 binding in front of the real one that the test can make fail: `down` rejects every query as
 * the binding reports an outage, `hanging` never settles one (a call that never returns); `only`
 * limits the fault to the statements whose SQL it matches. It records the SQL of every statement
 * prepared, so a test can say which queries a load made.
 */
export function switchableD1(real: D1Database) {
  let mode: "up" | "down" | "hanging" = "up";
  let only = /./;
  const queries: string[] = [];
  const failing = () => (mode === "hanging" ? new Promise<never>(() => {}) : Promise.reject(new Error("D1_ERROR: Network connection lost.")));
  const failingStatement: Record<string, unknown> = { bind: () => failingStatement, first: failing, all: failing, run: failing, raw: failing };
  const db = {
    prepare(sql: string) {
      queries.push(sql);
      return mode === "up" || !only.test(sql) ? real.prepare(sql) : failingStatement;
    },
    // A batch fails when it holds a statement prepared while its SQL was failing.
    batch: (statements: D1PreparedStatement[]) => (statements.some((statement) => (statement as unknown) === failingStatement) ? failing() : real.batch(statements)),
    exec: (sql: string) => (mode === "up" ? real.exec(sql) : failing()),
  } as unknown as D1Database;
  return {
    db,
    queries,
    set(next: typeof mode, affected = /./) {
      mode = next;
      only = affected;
    },
  };
}
