import { decodeUtf8 } from "../lib/utf8";

/** Bodies (requests, and responses from services we call) are read with a bound, whatever Content-Length claims. */
export class BodyTooLargeError extends Error {
  readonly code = "ERR_BODY_TOO_LARGE";
}

/**
 * Bodies the runtime reads as text without complaint. For any other type (a raw INVITE is
 * `message/sip`) workerd's `text()` logs a warning per request that the body "does not appear to be
 * text", so those are read as bytes and decoded here, with the same U+FFFD substitution.
 */
const TEXT_TYPES = /^\s*(?:text\/|application\/(?:[\w.+-]*\+)?json\s*(?:;|$))/i;

const DECIMAL = /^\d+$/;

export async function readBoundedText(request: Request | Response, maxBytes: number): Promise<string> {
  const length = request.headers.get("Content-Length");
  // Only a length in HTTP's own form (RFC 9110 §8.6: digits) frames the body; any other value says nothing, so the body is streamed.
  const declared = length !== null && DECIMAL.test(length) ? Number(length) : null;
  if (declared !== null && declared > maxBytes) throw new BodyTooLargeError(`request body is ${declared} bytes; at most ${maxBytes} are accepted`);
  if (declared !== null) {
    // A declared length bounds what HTTP framing delivers, so the body is read in one go (the common case,
    // and cheaper than chunk by chunk); the size is checked again for a caller that declared less than it sent.
    const text = TEXT_TYPES.test(request.headers.get("Content-Type") ?? "") ? await request.text() : decodeUtf8(await request.arrayBuffer());
    // UTF-8 never takes fewer bytes than UTF-16 code units, so a text this long came from a body that broke its declared bound.
    if (text.length > maxBytes) throw new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`);
    return text;
  }
  // `request.body` is only touched here: reading it creates a ReadableStream object, which the runtime
  // frees only in a major GC (the declared-length path above never needs one).
  const body = request.body;
  if (!body) return "";
  const reader = body.getReader();
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
