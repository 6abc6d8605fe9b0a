/**
 * One decoder for the isolate: a non-streaming decode keeps no state between calls, and a decoder per
 * call was a runtime object per PASSporT segment (freed only in a major GC).
 */
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes UTF-8, refusing malformed bytes instead of substituting U+FFFD (hostile input stays visible). */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

const lenientDecoder = new TextDecoder();

/** Decodes UTF-8 as `Response.text()` does, substituting U+FFFD for malformed bytes. */
export function decodeUtf8(bytes: ArrayBuffer | Uint8Array): string {
  return lenientDecoder.decode(bytes);
}
