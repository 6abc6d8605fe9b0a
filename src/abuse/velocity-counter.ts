import { DurableObject } from "cloudflare:workers";
import { MeteredStorage, PeriodicSave, type DurableStorageUse } from "../lib/durable-storage";
import { SlidingCounts, type Count, type Observation } from "./velocity-window";

/** The counts' last snapshot, in chunks: a Durable Object's SQLite keeps rows of at most 2 MB. */
const SNAPSHOT = "CREATE TABLE IF NOT EXISTS snapshot (chunk INTEGER PRIMARY KEY, counts TEXT NOT NULL)";
const READ_SNAPSHOT = "SELECT counts FROM snapshot ORDER BY chunk";
const WRITE_CHUNK = "INSERT INTO snapshot (chunk, counts) VALUES (?, ?) ON CONFLICT (chunk) DO UPDATE SET counts = excluded.counts";
const DROP_CHUNKS_FROM = "DELETE FROM snapshot WHERE chunk >= ?";
/** Characters of the snapshot's JSON per chunk (a row of at most 2 MB in UTF-8). */
export const SNAPSHOT_CHUNK_CHARS = 500_000;
/**
 * How often, at most, an object that counted something saves its counts: what a restart loses is the
 * observations of these last seconds (README "Stores: loss bounds and retention").
 */
export const VELOCITY_SAVE_EVERY_MS = 10_000;

/** Cuts `text` into chunks of at most `size` characters, never between the two halves of a surrogate pair. */
export function chunksOf(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + size);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}

/**
 * The velocity counters of one shard (src/abuse/shard.ts): counted in memory (src/abuse/velocity-window.ts),
 * so a call writes no row, and saved as one snapshot at most every VELOCITY_SAVE_EVERY_MS: a chunk row
 * written per 500 000 characters of counts, and the alarm that runs the save.
 */
export class VelocityCounter extends DurableObject {
  private readonly storage: MeteredStorage;
  private readonly counts: SlidingCounts;
  private readonly saving: PeriodicSave;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.storage = new MeteredStorage(ctx.storage);
    ctx.storage.sql.exec(SNAPSHOT);
    this.counts = SlidingCounts.restore(
      ctx.storage.sql
        .exec<{ counts: string }>(READ_SNAPSHOT)
        .toArray()
        .map(({ counts }) => counts)
        .join("") || "[]",
    );
    this.saving = new PeriodicSave(this.storage, VELOCITY_SAVE_EVERY_MS, () => this.save());
  }

  /** Counts the observations; answers the counts of their keys and what the storage did since the last answer. */
  async observe(observations: Observation[]): Promise<{ counts: Count[]; storage: DurableStorageUse }> {
    const counts = this.counts.observe(observations);
    if (observations.length > 0) await this.saving.changed();
    return { counts, storage: this.storage.take() };
  }

  override async alarm(): Promise<void> {
    this.saving.due();
  }

  /** The snapshot in one transaction, so a restart reads a whole one. */
  private save(): void {
    const chunks = chunksOf(this.counts.save(), SNAPSHOT_CHUNK_CHARS);
    this.storage.transaction(() => {
      chunks.forEach((chunk, index) => this.storage.run(WRITE_CHUNK, index, chunk));
      this.storage.run(DROP_CHUNKS_FROM, chunks.length);
    });
  }
}
