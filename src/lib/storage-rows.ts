/**
 * Rows as Cloudflare's SQLite storage bills them (D1 and SQLite-backed Durable Objects alike): every
 * B-tree entry a statement writes or reads. Rows written cost a thousand times rows read, and the
 * verdict's stores are where an operator's bill grows with traffic (BENCHMARKS.md), so each store
 * reports what its storage said it did (`shaken_store_rows_*_total`).
 */
export interface StoreRows {
  rowsRead: number;
  rowsWritten: number;
}

/** The rows every statement of a D1 batch reported (`meta.rows_read`, `meta.rows_written`). */
export function d1Rows(results: D1Result[]): StoreRows {
  let rowsRead = 0;
  let rowsWritten = 0;
  for (const { meta } of results) {
    rowsRead += meta.rows_read;
    rowsWritten += meta.rows_written;
  }
  return { rowsRead, rowsWritten };
}
