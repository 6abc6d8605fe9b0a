/**
 * Abuse counters live in Durable Objects, and one object serialises its requests: a single object for
 * all traffic would be the bottleneck of every verifier in every location. The replay guard spreads
 * PASSporTs over 256 objects by the first byte of their signing input's SHA-256 (the digest is also
 * the presentation's identity, src/abuse/replay.ts); the velocity counters spread their keys (a CLI, a trunk name) with
 * `velocityShardOf` below. Either way one hot key occupies one object, never the whole store.
 */

/** The object (of 256) that holds a key, named by the first byte of the key's digest. */
export const shardOf = (digestHex: string): string => `shard-${digestHex.slice(0, 2)}`;

/**
 * Velocity counters: the object (of VELOCITY_SHARDS) that counts a key. A flush sends one request per
 * shard it touches, so fewer, busier objects mean fewer round trips per batch; 64 objects each taking
 * a batch every 250 ms per isolate is far below what one object serves. The key is spread with
 * FNV-1a, synchronously: the spread needs no secrecy (whoever chooses a CLI can already aim at an
 * object under any public hash), and a digest per key was an awaited promise per observation.
 */
export const VELOCITY_SHARDS = 64;

export function velocityShardOf(key: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return `shard-${((hash >>> 0) % VELOCITY_SHARDS).toString(16).padStart(2, "0")}`;
}
