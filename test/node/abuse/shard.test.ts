import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { REPLAY_SHARDS, replayShardOf, VELOCITY_SHARDS, velocityShardOf } from "../../../src/abuse/shard";

/**
 * Which Durable Object holds a key (src/abuse/shard.ts): one of sixteen per store, so one hot key
 * occupies one object and the objects stay few enough to keep their saved pages full.
 */
const names = (count: number) => new Set(Array.from({ length: 16 }, (_, index) => `shard-${index.toString(16)}`).slice(0, count));

describe("the replay guard that holds a PASSporT", () => {
  it("is named by the first hex digit of its digest", () => {
    expect(replayShardOf("a3f0" + "0".repeat(60))).toBe("shard-a");
    expect(replayShardOf("0".repeat(64))).toBe("shard-0");
  });

  it("is one of REPLAY_SHARDS, each of them named by some digest", () => {
    const digests = Array.from({ length: 2000 }, (_, index) => createHash("sha256").update(`passport ${index}`).digest("hex"));
    expect(new Set(digests.map(replayShardOf))).toEqual(names(REPLAY_SHARDS));
  });
});

describe("the velocity counter that counts a key", () => {
  it("is one of VELOCITY_SHARDS, each of them counting some CLI", () => {
    const keys = Array.from({ length: 2000 }, (_, index) => `calls-per-cli:7701${String(index).padStart(7, "0")}`);
    expect(new Set(keys.map(velocityShardOf))).toEqual(names(VELOCITY_SHARDS));
  });
});
