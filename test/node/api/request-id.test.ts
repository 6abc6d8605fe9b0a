import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { requestId } from "../../../src/api/request-id";

/** ATIS-1000082's X-RequestID: the client's echoed when it is printable ASCII of 1–128 characters, else one of ours. */
const app = new Hono<{ Variables: { requestId: string } }>();
app.use("*", requestId);
app.get("/", (c) => c.text(c.get("requestId")));
// A redirect's headers are immutable (Fetch standard): the header goes on a copy of the response.
app.get("/redirect", () => Response.redirect("https://operator.example/", 302));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ask = (headers: Record<string, string> = {}, path = "/") => app.request(path, { headers });

describe("X-RequestID", () => {
  it.each(["req-1", "!", "~".repeat(128), "a:b/c?d=e"])("echoes %j, and hands it to the route", async (presented) => {
    const response = await ask({ "X-RequestID": presented });
    expect(response.headers.get("X-RequestID")).toBe(presented);
    expect(await response.text()).toBe(presented);
  });

  it.each([
    ["129 characters", "a".repeat(129)],
    ["a space inside", "req 1"],
    ["a tab inside", "req\t1"],
    ["a Latin-1 letter", "caf\u00e9"],
    ["DEL", "req\x7f"],
  ])("replaces one with %s by a UUID of ours", async (_what, presented) => {
    const response = await ask({ "X-RequestID": presented });
    const id = response.headers.get("X-RequestID");
    expect(id).toMatch(UUID);
    expect(await response.text()).toBe(id);
  });

  it("generates one when the client sends none, a fresh one each request", async () => {
    const [first, second] = await Promise.all([ask(), ask()]);
    expect(first.headers.get("X-RequestID")).toMatch(UUID);
    expect(first.headers.get("X-RequestID")).not.toBe(second.headers.get("X-RequestID"));
  });

  it("is set on a response whose headers are immutable", async () => {
    const response = await ask({ "X-RequestID": "req-redirect" }, "/redirect");
    expect(response.status).toBe(302);
    expect(response.headers.get("X-RequestID")).toBe("req-redirect");
  });
});
