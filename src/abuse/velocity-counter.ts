import { DurableObject } from "cloudflare:workers";
import { createKeyedTables, MeteredSql, type DurableStorageUse } from "../lib/durable-sql";
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
  private readonly sql: MeteredSql;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    createKeyedTables(ctx.storage, { table: "events", schema: VELOCITY_TABLES, fromRowid: VELOCITY_TABLES_FROM_ROWID });
    const sql = (this.sql = new MeteredSql(ctx.storage));
    this.tables = new VelocityTables(
      { run: (query, ...bindings) => sql.run(query, ...bindings), rows: <Row,>(query: string, ...bindings: (string | number)[]) => sql.rows(query, ...bindings) as Row[] },
      { get: () => ctx.storage.kv.get(SWEEP_STORAGE_KEY), put: (sweep) => sql.put(SWEEP_STORAGE_KEY, sweep) },
    );
  }

  /** Counts the observations; answers the counts of their keys and what the storage did for them. */
  observe(observations: Observation[]): { counts: Count[]; storage: DurableStorageUse } {
    return { counts: this.tables.observe(observations), storage: this.sql.take() };
  }
}
