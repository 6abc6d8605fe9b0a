/**
 * FNV-1a, 32 bits (Fowler–Noll–Vo, draft-eastlake-fnv), over a string's UTF-16 code units: a fast,
 * synchronous, non-cryptographic hash, for spreading keys and for telling names apart where a
 * collision costs nothing worse than what the caller says it costs. Never for anything a peer must
 * not be able to aim at: anyone can compute it.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
