/** Request bodies are read with a bound, whatever Content-Length claims. */
export class BodyTooLargeError extends Error {
  readonly code = "ERR_BODY_TOO_LARGE";
}

const decoder = new TextDecoder();

export async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const length = request.headers.get("Content-Length");
  const declared = Number(length ?? "0");
  if (declared > maxBytes) throw new BodyTooLargeError(`request body is ${declared} bytes; at most ${maxBytes} are accepted`);
  if (!request.body) return "";
  if (length !== null) {
    // A declared length bounds what HTTP framing delivers, so the body is read in one go (the common case,
    // and cheaper than chunk by chunk); the size is checked again for a caller that declared less than it sent.
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > maxBytes) throw new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`);
    return decoder.decode(bytes);
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const streaming = new TextDecoder();
  return chunks.map((chunk) => streaming.decode(chunk, { stream: true })).join("") + streaming.decode();
}
