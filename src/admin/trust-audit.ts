import { CRLS_KEY, TRUST_ANCHORS_KEY } from "../certificate/trust-format";
import { sha256Hex } from "../lib/sha256";
import type { AuditActor } from "./audit-log";

/**
 * Trust anchors and CRLs in the audit log (issue 22 item 12). `trust push` and `crl push` write the
 * TRUST KV namespace through wrangler, with Cloudflare credentials the Worker never sees, so the Worker
 * cannot tell who wrote a document, and an isolate that notices a new one could only record "someone".
 * The CLI therefore records each push through the admin API right after writing it: the audit row
 * names the authenticated operator, and what it records is read from KV here, as the verifier reads
 * it, not taken from the client. A document unchanged since its last record writes no row; a push made
 * some other way (plain `wrangler kv key put`) shows as the difference at the next record.
 */
const TRUST_DOCUMENTS = [TRUST_ANCHORS_KEY, CRLS_KEY] as const;

interface DocumentSummary {
  sha256: string;
  /** The document without its PEM blocks: versions, dates, subjects, issuers, fingerprints. */
  document: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function withoutPem(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPem);
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([key, member]) => (key === "pem" ? [] : [[key, withoutPem(member)]])));
}

async function summarize(text: string | null): Promise<DocumentSummary | null> {
  if (text === null) return null;
  let document: unknown = null;
  try {
    document = withoutPem(JSON.parse(text));
  } catch {
    // Recorded by its digest alone: the verifier cannot read it either.
  }
  return { sha256: await sha256Hex(text), document };
}

export interface TrustRecord {
  /** The documents whose change this call recorded. */
  recorded: string[];
  documents: Record<string, DocumentSummary | null>;
}

export async function recordTrustSet(db: D1Database, kv: KVNamespace, who: AuditActor, nowMs: number): Promise<TrustRecord> {
  const summaries = await Promise.all(TRUST_DOCUMENTS.map(async (key) => [key, await summarize(await kv.get(key))] as const));
  // The last recorded state is read inside the insert, in one transaction: `before` is the row it follows.
  const results = await db.batch(
    summaries.map(([key, summary]) =>
      db
        .prepare(
          `WITH last AS (SELECT after FROM audit_log WHERE entity = 'trust' AND entity_id = ?4 ORDER BY seq DESC LIMIT 1)
           INSERT INTO audit_log (at, actor, author, entity, entity_id, operation, before, after)
           SELECT ?1, ?2, ?3, 'trust', ?4,
                  CASE WHEN (SELECT after FROM last) IS NULL THEN 'create' WHEN ?5 IS NULL THEN 'delete' ELSE 'update' END,
                  (SELECT after FROM last), ?5
            WHERE (SELECT after FROM last) IS NOT ?5`,
        )
        .bind(nowMs, who.actor, who.author, key, summary === null ? null : JSON.stringify(summary)),
    ),
  );
  return {
    recorded: summaries.flatMap(([key], index) => (results[index]!.meta.changes === 1 ? [key] : [])),
    documents: Object.fromEntries(summaries),
  };
}
