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

/** env.DB, keeping the meta of every batch statement it ran: D1 reports the rows each one read and wrote. */
export function meteredD1() {
  const metas: D1Meta[] = [];
  const db = d1WithBatch(async (statements, real) => {
    const results = await real(statements);
    metas.push(...results.map((result) => result.meta));
    return results;
  });
  const sum = (field: "rows_read" | "rows_written") => metas.reduce((total, meta) => total + meta[field], 0);
  return { db, rowsRead: () => sum("rows_read"), rowsWritten: () => sum("rows_written") };
}
