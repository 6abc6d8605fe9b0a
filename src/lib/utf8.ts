/** Decodes UTF-8, refusing malformed bytes instead of substituting U+FFFD (hostile input stays visible). */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
}
