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
