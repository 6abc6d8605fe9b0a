import { env } from "cloudflare:workers";

type Batch = D1Database["batch"];

/**
 * env.DB with its `batch` (how every background write reaches D1) replaced by `batch(statements, real)`,
 * to meter, refuse or hang the writes; every other method is the real binding's.
 */
export function d1WithBatch(batch: (statements: D1PreparedStatement[], real: Batch) => Promise<D1Result[]>): D1Database {
  return new Proxy(env.DB, {
    get(target, property) {
      if (property === "batch") return (statements: D1PreparedStatement[]) => batch(statements, (each) => target.batch(each));
      const value = Reflect.get(target, property) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The SQL of a prepared statement: workerd's D1PreparedStatement keeps it as `statement`. */
export const sqlOf = (statement: D1PreparedStatement) => (statement as unknown as { statement: string }).statement;

/** A batch that writes: not all of its statements are SELECTs (the rules snapshot reads its changes in one batch). */
export const writesIn = (statements: D1PreparedStatement[]) => statements.some((statement) => !/^\s*SELECT\b/i.test(sqlOf(statement)));

/** A batch of the rules snapshot's reads (src/rules/store.ts), which the statistics' and dashboard's row counts leave out. */
const readsRules = (statements: D1PreparedStatement[]) => statements.every((statement) => /\bFROM (rules|rule_tombstones)\b/.test(sqlOf(statement)));

/** env.DB, keeping the meta of every batch statement it ran but the rules snapshot's: D1 reports the rows each one read and wrote. */
export function meteredD1() {
  const metas: D1Meta[] = [];
  const db = d1WithBatch(async (statements, real) => {
    const results = await real(statements);
    if (!readsRules(statements)) metas.push(...results.map((result) => result.meta));
    return results;
  });
  const sum = (field: "rows_read" | "rows_written") => metas.reduce((total, meta) => total + meta[field], 0);
  return { db, rowsRead: () => sum("rows_read"), rowsWritten: () => sum("rows_written") };
}
