import { fnv1a32 } from "../lib/fnv1a";

/**
 * Abuse counters live in Durable Objects, and one object serialises its requests: a single object for
 * all traffic would be the bottleneck of every verifier in every location. The replay guard spreads
 * PASSporTs over REPLAY_SHARDS objects by the first hex digit of their signing input's SHA-256 (the
 * digest is also the presentation's identity, src/abuse/replay.ts); the velocity counters spread their
 * keys (a CLI, a trunk name) with `velocityShardOf` below. Either way one hot key occupies one object,
 * never the whole store.
 *
 * Both keep their state in memory and save it in pages or snapshots (issue 19), so an object's rows
 * written grow with its saves, not with its calls: fewer objects fill their pages further. Each object
 * kept busy is also billed for its time in memory (Durable Object duration), whatever its calls. Sixteen
 * of each still leaves an object far below what one serves: an object's in-memory work is a few
 * microseconds per presentation or observation. The objects of the earlier layout (256 and 64, named
 * `shard-00` …) are no longer called; what they hold expired within a day of the change.
 */

export const REPLAY_SHARDS = 16;

/** The replay guard (of REPLAY_SHARDS) that holds a PASSporT, named by the first hex digit of its digest. */
export const replayShardOf = (digestHex: string): string => `shard-${digestHex.slice(0, 1)}`;

/**
 * Velocity counters: the object (of VELOCITY_SHARDS) that counts a key. A flush sends one request per
 * shard it touches, so fewer, busier objects mean fewer round trips per batch. The key is spread with
 * FNV-1a, synchronously: the spread needs no secrecy (whoever chooses a CLI can already aim at an
 * object under any public hash), and a digest per key was an awaited promise per observation.
 */
export const VELOCITY_SHARDS = 16;

export const velocityShardOf = (key: string): string => `shard-${(fnv1a32(key) % VELOCITY_SHARDS).toString(16)}`;
