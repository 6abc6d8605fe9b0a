import { describe, expect, it, vi } from "vitest";
import { TimeoutError, withTimeout } from "../../../src/lib/timeout";

describe("withTimeout: a background wait never holds its slot forever", () => {
  it("settles with the work when it finishes in time", async () => {
    await expect(withTimeout(Promise.resolve(7), 1_000, "reload")).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error("D1 down")), 1_000, "reload")).rejects.toThrow("D1 down");
  });

  it("rejects with a TimeoutError naming the work when it never settles", async () => {
    const never = new Promise<number>(() => {});
    const outcome = withTimeout(never, 5, "snapshot reload");
    await expect(outcome).rejects.toBeInstanceOf(TimeoutError);
    await expect(outcome).rejects.toThrow("snapshot reload did not settle within 5 ms");
  });

  it("leaves no timer behind once the work settles: a busy isolate's store calls do not each hold one for the whole bound", async () => {
    vi.useFakeTimers();
    try {
      await withTimeout(Promise.resolve(7), 5_000, "stats write");
      await withTimeout(Promise.reject(new Error("D1 down")), 5_000, "stats write").catch(() => undefined);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
