import { toHex } from "./keys";

/**
 * A positive serial number with 127 random bits (ATIS-1000080 v005 §6.4.1 and CA/B BR §7.1: at least
 * 64 bits of CSPRNG output). 16 bytes, top bit cleared so the INTEGER needs no leading zero, first
 * byte non-zero so the length is stable.
 */
export function randomSerialNumber(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return toHex(bytes);
}
