import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CRLS_KEY, TRUST_ANCHORS_KEY } from "../../../src/certificate/trust-format";
import { NAMED } from "../support/auth";
import { pki } from "../support/stir";
import { manualClock, operatorApp } from "./support";

/**
 * Issue 22 item 12: trust-anchor and CRL pushes reach the audit log. The CLI writes KV through
 * wrangler, then records the push with `POST /v1/admin/trust/audit`; the Worker records what KV holds,
 * under the authenticated operator.
 */
const START = Date.parse("2026-11-27T12:00:00Z");
const anchors = (updated: string) => JSON.stringify({ version: 1, updated, anchors: [{ pem: pki.root, subject: "CN=Test STI-CA Root", sha256: "ab".repeat(32), source: "stipa:7" }] });
const crls = (updated: string) => JSON.stringify({ version: 1, updated, crls: [{ pem: "-----BEGIN X509 CRL-----", issuer: "CN=Test STI-CA Intermediate", nextUpdate: "2026-12-04T00:00:00Z" }] });

type AuditEntry = { actor: string; author: string | null; operation: string; before: { document: unknown } | null; after: { sha256: string; document: Record<string, unknown> } | null };
const trustAudit = async (send: ReturnType<typeof operatorApp>["send"], key: string) =>
  ((await (await send("GET", `/v1/admin/audit?entity=trust&id=${key}`)).json()) as { entries: AuditEntry[] }).entries;

describe("recording a trust-set push", () => {
  it("records what KV holds under the admin's name, once per change, with what it replaced", async () => {
    const { send } = operatorApp(manualClock(START));
    await env.TRUST.put(TRUST_ANCHORS_KEY, anchors("2026-11-27T11:00:00Z"));
    await env.TRUST.put(CRLS_KEY, crls("2026-11-27T11:00:00Z"));

    const first = await send("POST", "/v1/admin/trust/audit", { author: "ci:nightly-crl-job" }, NAMED.admin.headers);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ recorded: [TRUST_ANCHORS_KEY, CRLS_KEY] });
    expect(await (await send("POST", "/v1/admin/trust/audit", {}, NAMED.admin.headers)).json()).toMatchObject({ recorded: [] });

    await env.TRUST.put(CRLS_KEY, crls("2026-11-28T11:00:00Z"));
    expect(await (await send("POST", "/v1/admin/trust/audit", {}, NAMED.admin.headers)).json()).toMatchObject({ recorded: [CRLS_KEY] });

    const [changed, created] = await trustAudit(send, CRLS_KEY);
    expect(created).toMatchObject({ operation: "create", actor: NAMED.admin.name, author: "ci:nightly-crl-job", before: null });
    expect(created!.after!.document).toEqual({ version: 1, updated: "2026-11-27T11:00:00Z", crls: [{ issuer: "CN=Test STI-CA Intermediate", nextUpdate: "2026-12-04T00:00:00Z" }] });
    expect(changed).toMatchObject({ operation: "update", actor: NAMED.admin.name, before: created!.after, after: { document: { updated: "2026-11-28T11:00:00Z" } } });
    const [anchorsRecord] = await trustAudit(send, TRUST_ANCHORS_KEY);
    expect(anchorsRecord!.after!.document).toMatchObject({ anchors: [{ subject: "CN=Test STI-CA Root", sha256: "ab".repeat(32), source: "stipa:7" }] });
    expect(JSON.stringify(anchorsRecord)).not.toContain("BEGIN CERTIFICATE");
  });

  it("records a document removed from KV as its deletion, and one the verifier cannot read by its digest alone", async () => {
    const { send } = operatorApp(manualClock(START));
    await env.TRUST.put(CRLS_KEY, "{ not json");
    await env.TRUST.delete(TRUST_ANCHORS_KEY);
    const unreadable = await send("POST", "/v1/admin/trust/audit", {}, NAMED.admin.headers);
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("{ not json")))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    expect(await unreadable.json()).toMatchObject({ documents: { [CRLS_KEY]: { sha256: digest, document: null }, [TRUST_ANCHORS_KEY]: null } });
    expect((await trustAudit(send, CRLS_KEY))[0]).toMatchObject({ actor: NAMED.admin.name, after: { sha256: digest, document: null } });

    await env.TRUST.put(TRUST_ANCHORS_KEY, anchors("2026-11-29T11:00:00Z"));
    expect(await (await send("POST", "/v1/admin/trust/audit", {}, NAMED.admin.headers)).json()).toMatchObject({ recorded: [TRUST_ANCHORS_KEY] });
    await env.TRUST.delete(TRUST_ANCHORS_KEY);
    expect(await (await send("POST", "/v1/admin/trust/audit", {}, NAMED.admin.headers)).json()).toMatchObject({ recorded: [TRUST_ANCHORS_KEY] });
    const [deleted, written] = await trustAudit(send, TRUST_ANCHORS_KEY);
    expect(deleted).toMatchObject({ operation: "delete", actor: NAMED.admin.name, before: written!.after, after: null });
    expect(await (await send("POST", "/v1/admin/trust/audit", {}, NAMED.admin.headers)).json()).toMatchObject({ recorded: [] });
  });

  it("keeps a document's null members in its record", async () => {
    const { send } = operatorApp(manualClock(START));
    await env.TRUST.put(CRLS_KEY, JSON.stringify({ version: 1, updated: null, crls: [] }));
    const recorded = await send("POST", "/v1/admin/trust/audit", {}, NAMED.admin.headers);
    expect(await recorded.json()).toMatchObject({ documents: { [CRLS_KEY]: { document: { version: 1, updated: null, crls: [] } } } });
  });

  it("refuses a body with a member it does not take, naming it", async () => {
    const { send } = operatorApp(manualClock(START));
    const refused = await send("POST", "/v1/admin/trust/audit", { author: "ci", key: TRUST_ANCHORS_KEY }, NAMED.admin.headers);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: "ERR_VALIDATION", fields: { "(body)": expect.stringContaining("key") } } });
  });

  it("is an admin's act: an analyst is refused", async () => {
    const { send } = operatorApp(manualClock(START));
    expect((await send("POST", "/v1/admin/trust/audit", {}, NAMED.analyst.headers)).status).toBe(403);
  });
});
