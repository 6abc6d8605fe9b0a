import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { sbcAuth } from "../support/auth";
import { DOMESTIC_QUERY, FROM, inviteWith, TO } from "../support/invite";
import { appAt, CALLEE, CALLER, installTrust, postVerdict, signedIdentity, verdictRequest } from "../support/stir";

beforeEach(() => installTrust());

/**
 * How /v1/verdict reads an SBC's request and what it tells the SBC about the caller ID: the body's
 * type and bound, and the verdict's `cli`, `stir` and `identities`, which an SBC copies into the
 * INVITE it forwards (verstat) or its logs.
 */
const post = (body: BodyInit, contentType: string | null, query = "") =>
  appAt().request(`/v1/verdict${query}`, { method: "POST", headers: { ...sbcAuth, ...(contentType === null ? {} : { "Content-Type": contentType }) }, body }, env);

/** A PASSporT that is not three segments: IDENTITY_MALFORMED, 438 (RFC 8224 §6.2.2). */
const MALFORMED = "not-a-passport;info=<https://cr.example.net/sp.pem>;ppt=shaken";

interface VerdictBody {
  verdict: {
    action: string;
    cli: { value: string; tn: string | null; source: string } | null;
    deadline: { budgetMs: number; elapsedMs: number };
    stir: Record<string, unknown>;
    identities: Record<string, unknown>[];
  };
}
const verdictOf = async (response: Response) => {
  expect(response.status).toBe(200);
  return ((await response.json()) as VerdictBody).verdict;
};
const errorOf = async (response: Response) => ({ status: response.status, ...((await response.json()) as { error: { code: string } }).error });

describe("the verdict request's body", () => {
  it.each(["application/json", "Application/JSON; charset=utf-8", " application/json ;charset=utf-8"])("Content-Type %j is read as JSON", async (contentType) => {
    expect((await verdictOf(await post(JSON.stringify(verdictRequest([])), contentType))).cli).toMatchObject({ tn: CALLER });
  });

  it("Content-Type MESSAGE/SIP is read as an INVITE", async () => {
    expect((await verdictOf(await post(inviteWith([FROM, TO]), "MESSAGE/SIP", DOMESTIC_QUERY))).cli).toMatchObject({ tn: CALLER });
  });

  it.each([
    ["empty", ""],
    ["white space", " \r\n\t"],
  ])("%s is refused with 400 ERR_EMPTY_BODY", async (_what, body) => {
    expect(await errorOf(await post(body, "application/json"))).toMatchObject({ status: 400, code: "ERR_EMPTY_BODY" });
  });

  it("that is no JSON is refused with 400 ERR_JSON", async () => {
    expect(await errorOf(await post('{"from": ', "application/json"))).toMatchObject({ status: 400, code: "ERR_JSON" });
  });

  it("of another type is refused with 415, and so is one without a type", async () => {
    expect(await errorOf(await post(JSON.stringify(verdictRequest([])), "text/plain"))).toMatchObject({ status: 415, code: "ERR_CONTENT_TYPE" });
    expect(await errorOf(await post(new TextEncoder().encode(JSON.stringify(verdictRequest([]))), null))).toMatchObject({ status: 415, code: "ERR_CONTENT_TYPE" });
  });

  it("a raw INVITE over 64 KiB is too large (413), where JSON of the same size is read", async () => {
    const padding = `X-Padding: ${"p".repeat(70_000)}`;
    expect(await errorOf(await post(inviteWith([FROM, TO, padding]), "message/sip", DOMESTIC_QUERY))).toMatchObject({ status: 413, code: "ERR_BODY_TOO_LARGE" });
    // Read, as its unknown member's refusal shows: JSON's bound is 128 KiB.
    expect(await errorOf(await post(JSON.stringify(verdictRequest([], { padding: "p".repeat(70_000) })), "application/json"))).toMatchObject({ status: 400, code: "ERR_VALIDATION", field: "padding" });
    expect(await errorOf(await post(JSON.stringify(verdictRequest([], { padding: "p".repeat(140_000) })), "application/json"))).toMatchObject({ status: 413, code: "ERR_BODY_TOO_LARGE" });
  });

  it("answers another method with 405", async () => {
    const response = await appAt().request("/v1/verdict", { headers: sbcAuth }, env);
    expect(await errorOf(response)).toMatchObject({ status: 405, code: "ERR_METHOD" });
  });
});

describe("what the verdict tells the SBC about the caller ID", () => {
  it("names the caller ID as presented, its number and where it came from", async () => {
    const verdict = await verdictOf(await postVerdict(appAt(), verdictRequest([])));
    expect(verdict.cli).toEqual({ value: `<sip:+${CALLER}@carrier.example;user=phone>;tag=1`, tn: CALLER, source: "from" });
  });

  it("names no caller ID when the call presents none", async () => {
    const verdict = await verdictOf(await postVerdict(appAt(), verdictRequest([], { from: undefined })));
    expect(verdict.cli).toBeNull();
  });

  it("gives the budget it was held to and the time it took", async () => {
    const { deadline } = await verdictOf(await postVerdict(appAt(), verdictRequest([]), {}, { ...env, VERDICT_BUDGET_MS: "400" }));
    expect(deadline.budgetMs).toBe(400);
    expect(deadline.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it("with a PASSporT that verifies: TN-Validation-Passed and no failure, for the call and for the header", async () => {
    const { identity, x5u } = await signedIdentity({ attest: "A" });
    const verdict = await verdictOf(await postVerdict(appAt(), verdictRequest([identity])));
    const none = { reasoncode: null, reasontext: null, reasondesc: null, failedCheck: null };
    expect(verdict.stir).toEqual({ verstat: "TN-Validation-Passed", ...none });
    expect(verdict.identities).toEqual([expect.objectContaining({ ppt: "shaken", verstat: "TN-Validation-Passed", attest: "A", orig: CALLER, dest: [CALLEE], x5u, ...none })]);
  });

  it("without an Identity header: No-TN-Validation, 428 Use Identity Header, and no header to describe", async () => {
    const verdict = await verdictOf(await postVerdict(appAt(), verdictRequest([])));
    expect(verdict.stir).toEqual({ verstat: "No-TN-Validation", reasoncode: 428, reasontext: "Use Identity Header", reasondesc: expect.any(String), failedCheck: "identity.present" });
    expect(verdict.identities).toEqual([]);
  });

  it("with an Identity header that does not read: the failure's code, reason and check, for the call and for the header", async () => {
    const verdict = await verdictOf(await postVerdict(appAt(), verdictRequest([MALFORMED])));
    const failure = { reasoncode: 438, reasontext: "Invalid Identity Header", reasondesc: expect.stringMatching(/3 dot-separated segments/), failedCheck: "identity.syntax" };
    expect(verdict.stir).toEqual({ verstat: "No-TN-Validation", ...failure });
    expect(verdict.identities).toEqual([expect.objectContaining({ outcome: expect.any(String), verstat: "No-TN-Validation", ...failure })]);
  });
});
