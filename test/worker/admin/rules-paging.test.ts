import { describe, expect, it } from "vitest";
import { manualClock, operatorApp } from "./support";

const START = Date.parse("2026-11-27T12:00:00Z");
// The file's tests share one database: each test's rules name CLIs under a prefix of its own, which `cli=` lists.
let prefixes = 0;
const blockRule = (prefix: string, index: number) => ({ criteria: { cli: { exact: `${prefix}${String(index).padStart(3, "0")}` } }, action: "block", reason: `paging ${index}` });

interface Listing {
  rules: { id: string; reason: string }[];
  next: string | null;
}

/**
 * Seven rules: three written at one instant (their order is their ids'), then four a second apart.
 * The listing is newest first.
 */
async function sevenRules() {
  const prefix = `7727259${prefixes++}`;
  const clock = manualClock(START);
  const { send } = operatorApp(clock);
  const ids: string[] = [];
  for (let index = 0; index < 7; index++) {
    if (index >= 3) clock.advance(1_000);
    const created = (await (await send("POST", "/v1/admin/rules", blockRule(prefix, index))).json()) as { rule: { id: string } };
    ids.push(created.rule.id);
  }
  const list = async (query: string) => {
    const response = await send("GET", `/v1/admin/rules?cli=${prefix}&${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as Listing;
  };
  const sameInstant = ids.slice(0, 3).sort();
  return { send, list, ids, newestFirst: [ids[6]!, ids[5]!, ids[4]!, ids[3]!, ...sameInstant] };
}

async function walk(list: (query: string) => Promise<Listing>, limit: number, between: (pageIndex: number) => Promise<void> = async () => {}) {
  const seen: string[] = [];
  for (let after: string | null = null, page = 0; ; page++) {
    // Seven rules take at most seven pages: more means the cursor did not move on.
    if (page === 8) throw new Error(`the listing did not end after ${page} pages: ${seen.length} rules seen`);
    const listing = await list(`limit=${limit}${after === null ? "" : `&after=${encodeURIComponent(after)}`}`);
    seen.push(...listing.rules.map((rule) => rule.id));
    if (listing.next === null) return seen;
    await between(page);
    after = listing.next;
  }
}

describe("GET /v1/admin/rules pages by a cursor", () => {
  it("gives every rule once, newest first, rules written at one instant in their ids' order", async () => {
    const { list, newestFirst } = await sevenRules();
    expect(await walk(list, 2)).toEqual(newestFirst);
    expect(await walk(list, 3)).toEqual(newestFirst);
    expect((await list("limit=7")).rules.map((rule) => rule.id)).toEqual(newestFirst);
  });

  it("a full page names where to go on; the page that ends the listing says null", async () => {
    const { list, newestFirst } = await sevenRules();
    const first = await list("limit=4");
    expect(first.next).not.toBeNull();
    const rest = await list(`limit=4&after=${encodeURIComponent(first.next!)}`);
    expect(rest.rules.map((rule) => rule.id)).toEqual(newestFirst.slice(4));
    expect(rest.next).toBeNull();
  });

  it("misses no rule when one already listed is deleted between pages, where offset paging would", async () => {
    const { send, list, newestFirst } = await sevenRules();
    // After the first page of two, its first rule goes.
    const deleteFirst = async (page: number) => {
      if (page === 0) expect((await send("DELETE", `/v1/admin/rules/${newestFirst[0]}`)).status).toBe(200);
    };
    expect(await walk(list, 2, deleteFirst)).toEqual(newestFirst);
  });

  it("with offset, the same deletion skips a rule: why `config export` reads by cursor", async () => {
    const { send, list, newestFirst } = await sevenRules();
    const first = (await list("limit=2&offset=0")).rules.map((rule) => rule.id);
    expect((await send("DELETE", `/v1/admin/rules/${newestFirst[0]}`)).status).toBe(200);
    const second = (await list("limit=2&offset=2")).rules.map((rule) => rule.id);
    expect([...first, ...second]).not.toContain(newestFirst[2]);
  });

  it.each([
    ["a cursor it never gave", "after=bogus"],
    ["a cursor without an id", "after=1796601900000_"],
    ["a cursor and an offset", "after=1796601900000_x&offset=2"],
  ])("refuses %s, naming after", async (_, query) => {
    const { send } = operatorApp(manualClock(START));
    const response = await send("GET", `/v1/admin/rules?${query}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; fields: Record<string, string> } };
    expect(body.error.code).toBe("ERR_VALIDATION");
    expect(Object.keys(body.error.fields)).toEqual(["after"]);
  });
});
