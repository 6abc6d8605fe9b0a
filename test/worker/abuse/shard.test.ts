import { describe, expect, it } from "vitest";
import { VELOCITY_SHARDS, velocityShardOf } from "../../../src/abuse/shard";

describe("velocity shard choice", () => {
  it("is stable for a key and names one of the shards", () => {
    expect(velocityShardOf("cli:77012345678")).toBe(velocityShardOf("cli:77012345678"));
    expect(velocityShardOf("cli:77012345678")).toMatch(/^shard-[0-9a-f]{2}$/);
  });

  it("spreads similar keys (consecutive numbers, one prefix) over every shard, none with more than twice its share", () => {
    const counts = new Map<string, number>();
    for (let index = 0; index < 64_000; index++) {
      const shard = velocityShardOf(`cli:770123${String(index).padStart(5, "0")}`);
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }
    expect(counts.size).toBe(VELOCITY_SHARDS);
    const share = 64_000 / VELOCITY_SHARDS;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(share / 2);
      expect(count).toBeLessThan(share * 2);
    }
  });
});
