import type { StoreRows } from "./storage-rows";

/**
 * Creates a Durable Object's tables, or, in an object created before its table was declared WITHOUT
 * ROWID, rebuilds them once from the rowid table (`fromRowid` moves the rows), in one transaction.
 * SQLite keeps each table's CREATE statement as written, so the declaration is read back from it.
 */
export function createKeyedTables(storage: DurableObjectStorage, { table, schema, fromRowid }: { table: string; schema: string; fromRowid: string }): void {
  const sql = storage.sql;
  storage.transactionSync(() => {
    const [created] = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray();
    sql.exec(created !== undefined && !/\bWITHOUT\s+ROWID\s*$/i.test(created.sql) ? fromRowid : schema);
  });
}

/**
 * What a Durable Object's storage did since the object last reported it (its answers carry it to the
 * Worker, which counts it in `shaken_store_rows_*_total` and `shaken_durable_object_requests_total`):
 * rows as its SQL cursors report them, plus a row written for each key-value put, and the alarms it ran.
 */
export interface DurableStorageUse extends StoreRows {
  alarmsRun: number;
}

const NOTHING_USED: DurableStorageUse = { rowsRead: 0, rowsWritten: 0, alarmsRun: 0 };

/** A Durable Object's SQL storage, keeping count of the rows each statement's cursor reports. */
export class MeteredSql {
  private use: DurableStorageUse = { ...NOTHING_USED };

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Runs a statement to its end (a cursor's counts are final only then) and answers its rows. */
  rows<Row extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): Row[] {
    const cursor = this.storage.sql.exec<Row>(query, ...bindings);
    const rows = cursor.toArray();
    this.use.rowsRead += cursor.rowsRead;
    this.use.rowsWritten += cursor.rowsWritten;
    return rows;
  }

  run(query: string, ...bindings: unknown[]): void {
    this.rows(query, ...bindings);
  }

  /** A key-value put: the object's key-value pairs are rows of its SQLite too, one written per put. */
  put(key: string, value: unknown): void {
    this.storage.kv.put(key, value);
    this.use.rowsWritten++;
  }

  /** The use since the last call, for the object's answer to report. */
  take(): DurableStorageUse {
    const use = this.use;
    this.use = { ...NOTHING_USED };
    return use;
  }
}
