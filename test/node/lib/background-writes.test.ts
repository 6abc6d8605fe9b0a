import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BackgroundWrites, type CacheWriteTask } from "../../../src/lib/background-writes";

/**
 * A cache write belongs to the request that started it, and so does the timer bounding it. In workerd
 * a timer of a request that has ended never fires, and its I/O never settles: the write must still be
 * let go, by the clock, and a later request must never wait on it past a bound of its own. Timers here
 * are fake and advanced only where a test says so: a write's own timer that never fires is the case.
 */
const never = () => new Promise<never>(() => {});

/** Starts a write as a request that then ended does: its own timer is set but never fires. */
function startInEndedRequest(writes: BackgroundWrites, task: CacheWriteTask): void {
  const timers = vi.spyOn(globalThis, "setTimeout").mockImplementation((() => 0) as never);
  try {
    void writes.start(never, task, "a put from a request that has ended").catch(() => undefined);
  } finally {
    timers.mockRestore();
  }
}

describe("BackgroundWrites: a write whose own timer never fires", () => {
  let nowMs = 0;
  let timeouts: CacheWriteTask[];
  let writes: BackgroundWrites;

  beforeEach(() => {
    vi.useFakeTimers();
    nowMs = 1_000_000;
    timeouts = [];
    writes = new BackgroundWrites(1_000, (task) => timeouts.push(task), () => nowMs);
  });
  afterEach(() => vi.useRealTimers());

  it("is dropped once older than the bound by the clock, counted once, and no later request is handed it", async () => {
    startInEndedRequest(writes, "cache-write:certificates");
    expect(writes.settled()).not.toBeNull();
    nowMs += 999;
    expect(writes.settled()).not.toBeNull();
    nowMs += 1;
    expect(writes.settled()).toBeNull();
    expect(writes.settled()).toBeNull();
    expect(timeouts).toEqual(["cache-write:certificates"]);
  });

  it("hands a request only a wait bounded by that request's own timer", async () => {
    startInEndedRequest(writes, "cache-write:trust");
    const handed = writes.settled()!;
    let done = false;
    void handed.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(timeouts).toEqual([]); // the write's own timer never fired: only the clock can let it go
  });

  it("still hands a request the writes that settle, which then leave", async () => {
    let finish!: () => void;
    const write = writes.start(() => new Promise<void>((resolve) => (finish = resolve)), "cache-write:certificates", "a put");
    const handed = writes.settled()!;
    finish();
    await write;
    await handed;
    expect(writes.settled()).toBeNull();
    expect(timeouts).toEqual([]);
  });

  it("counts a write that times out on its own timer once, not again when the clock passes its bound", async () => {
    void writes.start(never, "cache-write:certificates", "a put").catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    nowMs += 5_000;
    expect(writes.settled()).toBeNull();
    expect(timeouts).toEqual(["cache-write:certificates"]);
  });

  it("does not count a write the cache refused as timed out, and lets it go", async () => {
    const write = writes.start(() => Promise.reject(new Error("cache put refused")), "cache-write:trust", "a put");
    await expect(write).rejects.toThrow("cache put refused");
    await vi.advanceTimersByTimeAsync(0);
    expect(writes.settled()).toBeNull();
    expect(timeouts).toEqual([]);
  });
});
