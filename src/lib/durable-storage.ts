import type { StoreRows } from "./storage-rows";

/**
 * What a Durable Object's storage did since the object last reported it (its answers carry it to the
 * Worker, which counts it in `shaken_store_rows_*_total` and `shaken_durable_object_requests_total`):
 * rows as its SQL cursors report them, a row written for each alarm it set (an alarm is kept in the
 * object's SQLite), and the alarms it ran, each billed as a request.
 */
export interface DurableStorageUse extends StoreRows {
  alarmsRun: number;
}

const NOTHING_USED: DurableStorageUse = { rowsRead: 0, rowsWritten: 0, alarmsRun: 0 };

/** A Durable Object's storage, keeping count of what it bills: the rows each statement's cursor reports, and alarms. */
export class MeteredStorage {
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

  /** Runs `work` in one transaction: a restart sees all of its writes or none. */
  transaction(work: () => void): void {
    this.storage.transactionSync(work);
  }

  async setAlarm(atMs: number): Promise<void> {
    this.use.rowsWritten++;
    await this.storage.setAlarm(atMs);
  }

  alarmRun(): void {
    this.use.alarmsRun++;
  }

  /** The use since the last call, for the object's answer to report. */
  take(): DurableStorageUse {
    const use = this.use;
    this.use = { ...NOTHING_USED };
    return use;
  }
}

/**
 * An object that keeps its state in memory and saves it at most every `everyMs`: a change sets an
 * alarm that far ahead, unless one is set already, and the alarm saves what changed meanwhile. A burst
 * of changes thus costs one save, and what a restart can lose is what changed since the last save:
 * `everyMs`, and the moment the alarm takes to run.
 */
export class PeriodicSave {
  private scheduled = false;

  constructor(
    private readonly storage: MeteredStorage,
    readonly everyMs: number,
    private readonly save: () => void,
  ) {}

  /**
   * After a change. An alarm the storage refused is no alarm: the next change tries again, or the
   * object would never save again and a restart would forget everything since (README "Stores: loss
   * bounds and retention"). The caller still hears of the refusal; the change itself stays unsaved
   * until an alarm runs.
   */
  async changed(): Promise<void> {
    if (this.scheduled) return;
    this.scheduled = true;
    try {
      await this.storage.setAlarm(Date.now() + this.everyMs);
    } catch (error) {
      this.scheduled = false;
      throw error;
    }
  }

  /** The object's alarm: saves what changed since the last save. */
  due(): void {
    this.scheduled = false;
    this.storage.alarmRun();
    this.save();
  }
}
