import { DurableObject } from "cloudflare:workers";
import { createKeyedTables } from "../lib/durable-sql";
import { VELOCITY_TABLES, VELOCITY_TABLES_FROM_ROWID } from "./velocity-sql";
import { type Count, type Observation, VelocityTables } from "./velocity-tables";

const SWEEP_STORAGE_KEY = "velocity-sweep";

/**
 * The velocity counters of one shard (src/abuse/shard.ts) in a Durable Object's SQLite storage: the
 * counting itself is src/abuse/velocity-tables.ts. An object created before the tables were keyed as
 * they are now moves its rows into them once, when it starts.
 */
export class VelocityCounter extends DurableObject {
  private readonly tables: VelocityTables;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    createKeyedTables(ctx.storage, { table: "events", schema: VELOCITY_TABLES, fromRowid: VELOCITY_TABLES_FROM_ROWID });
    const sql = ctx.storage.sql;
    this.tables = new VelocityTables(
      { run: (query, ...bindings) => void sql.exec(query, ...bindings), rows: <Row,>(query: string, ...bindings: (string | number)[]) => sql.exec(query, ...bindings).toArray() as Row[] },
      { get: () => ctx.storage.kv.get(SWEEP_STORAGE_KEY), put: (sweep) => ctx.storage.kv.put(SWEEP_STORAGE_KEY, sweep) },
    );
  }

  observe(observations: Observation[]): Count[] {
    return this.tables.observe(observations);
  }
}
