/**
 * Abuse counters live in Durable Objects, and one object serialises its requests: a single object for
 * all traffic would be the bottleneck of every verifier in every location. Keys are spread over 256
 * objects by the first byte of their SHA-256, so load spreads evenly whatever the keys look like
 * (a signature, a CLI, a trunk name) and one hot key occupies one object, never the whole store.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The object (of 256) that holds a key, named by the first byte of the key's digest. */
export const shardOf = (digestHex: string): string => `shard-${digestHex.slice(0, 2)}`;
