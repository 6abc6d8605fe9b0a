/**
 * Whether a Durable Object's table exists and was created with a rowid: a table created before its
 * schema declared it WITHOUT ROWID, which the object then rebuilds once. SQLite keeps each table's
 * CREATE statement as written, so the declaration is read back from it.
 */
export function createdWithRowid(sql: SqlStorage, table: string): boolean {
  const [row] = sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray();
  return row !== undefined && !/\bWITHOUT\s+ROWID\s*$/i.test(row.sql);
}
