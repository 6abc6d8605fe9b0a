import { describe, expect, it } from "vitest";
import { BodyTooLargeError, readBoundedText } from "../../../src/api/body";

const post = (body: Uint8Array, contentType: string | null, headers: Record<string, string> = {}) =>
  new Request("https://verifier.example/v1/verdict", {
    method: "POST",
    body,
    headers: { "Content-Length": String(body.byteLength), ...(contentType === null ? {} : { "Content-Type": contentType }), ...headers },
  });

const bytes = (...parts: (string | number[])[]) => {
  const encoded = parts.map((part) => (typeof part === "string" ? new TextEncoder().encode(part) : Uint8Array.from(part)));
  const joined = new Uint8Array(encoded.reduce((size, part) => size + part.byteLength, 0));
  let at = 0;
  for (const part of encoded) joined.set(part, (at += part.byteLength) - part.byteLength);
  return joined;
};

describe("readBoundedText", () => {
  // Malformed UTF-8 (a lone continuation byte, a truncated sequence, an overlong form) amid text.
  const hostile = bytes("INVITE sip:+77172501234@op.kz SIP/2.0\r\nFrom: \"", [0x80, 0xe2, 0x82], "Ж", [0xc0, 0xaf], "\"\r\n");

  it.each(["message/sip", "application/sdp", "application/octet-stream", null])("reads a %s body as the runtime's text() would, U+FFFD for malformed bytes", async (type) => {
    // The runtime's own decoding of the same bytes (a body with no type is read without its "not text" warning).
    const expected = await new Response(hostile).text();
    expect(expected).toContain("\uFFFD");
    expect(await readBoundedText(post(hostile, type), 65_536)).toBe(expected);
  });

  it.each(["application/json", "application/json; charset=utf-8", "text/plain", "application/problem+json"])("reads a %s body as text", async (type) => {
    const body = bytes('{"verificationRequest":{"identity":"Ж', [0xff], '"}}');
    expect(await readBoundedText(post(body, type), 65_536)).toBe(await post(body, type).text());
  });

  it("reads a body of exactly the bound, declared or streamed", async () => {
    const body = bytes("x".repeat(1_000));
    expect(await readBoundedText(post(body, "application/json"), 1_000)).toHaveLength(1_000);
    const streamed = new Request("https://verifier.example/v1/verdict", { method: "POST", body: new Blob([body]).stream(), duplex: "half" } as RequestInit);
    expect(await readBoundedText(streamed, 1_000)).toHaveLength(1_000);
  });

  it("reads a request without a body as empty", async () => {
    expect(await readBoundedText(new Request("https://verifier.example/v1/verdict", { method: "POST" }), 1_000)).toBe("");
  });

  it("refuses a body longer than the length it declared", async () => {
    await expect(readBoundedText(post(bytes("x".repeat(2_000)), "application/json", { "Content-Length": "10" }), 1_000)).rejects.toThrow(/exceeds 1000 bytes/);
  });

  it("stops reading an endless body without a declared length at the bound, and cancels it", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(256)),
      cancel: () => void (cancelled = true),
    });
    const request = new Request("https://verifier.example/v1/verdict", { method: "POST", body: endless, duplex: "half" } as RequestInit);
    await expect(readBoundedText(request, 1_000)).rejects.toThrow(/exceeds 1000 bytes/);
    expect(cancelled).toBe(true);
  });

  it.each(["abc", "-1", "1e3", "", "0x10"])("stops reading an endless body at the bound when Content-Length is no length (%j), and cancels it", async (length) => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(256)),
      cancel: () => void (cancelled = true),
    });
    const request = new Request("https://verifier.example/v1/verdict", { method: "POST", body: endless, duplex: "half", headers: { "Content-Length": length, "Content-Type": "application/json" } } as RequestInit);
    await expect(readBoundedText(request, 1_000)).rejects.toThrow(/exceeds 1000 bytes/);
    expect(cancelled).toBe(true);
  });

  it("refuses a body over the bound, whether declared or not", async () => {
    const body = bytes("x".repeat(2_000));
    await expect(readBoundedText(post(body, "message/sip"), 1_000)).rejects.toThrow(BodyTooLargeError);
    await expect(readBoundedText(post(body, "application/json"), 1_000)).rejects.toThrow(/2000 bytes; at most 1000/);
  });
});
