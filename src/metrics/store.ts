/**
 * The metric sums every isolate adds to (migrations/0006_metric_counters.sql). Increments are added,
 * never written over, so isolates flushing at the same time lose nothing.
 */
export interface SeriesValue {
  name: string;
  labels: string;
  value: number;
}

/** Adds the increments in one D1 batch (one transaction): all of them or none. Answers what D1 reported for each statement. */
export async function addToMetricSums(db: D1Database, increments: SeriesValue[]): Promise<D1Result[]> {
  const add = db.prepare("INSERT INTO metric_counters (name, labels, value) VALUES (?, ?, ?) ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value");
  return db.batch(increments.map(({ name, labels, value }) => add.bind(name, labels, value)));
}

export async function readMetricSums(db: D1Database): Promise<SeriesValue[]> {
  const { results } = await db.prepare("SELECT name, labels, value FROM metric_counters ORDER BY name, labels").all<SeriesValue>();
  return results;
}
