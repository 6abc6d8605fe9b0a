import { applyAudited, type AuditActor } from "../../admin/audit-log";
import { CONFIG_SECTION_SCHEMAS, defaultOperatorConfig, defaultSection, type ConfigSection, type OperatorConfig } from "./sections";

/** Operator configuration documents in D1 (migrations/0003); version 0 means "never written, default". */
export interface VersionedSection<S extends ConfigSection = ConfigSection> {
  section: S;
  document: OperatorConfig[S];
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
}

interface ConfigRow {
  section: ConfigSection;
  document: string;
  version: number;
  updated_at: number;
  updated_by: string;
}

export class StoredConfigInvalidError extends Error {
  readonly code = "ERR_STORED_CONFIG_INVALID";
}

function parseStored<S extends ConfigSection>(row: ConfigRow & { section: S }): OperatorConfig[S] {
  const parsed = CONFIG_SECTION_SCHEMAS[row.section].safeParse(JSON.parse(row.document));
  // Documents are validated on write; a stored one that no longer parses is a deploy mistake to surface, not to guess around.
  if (!parsed.success) throw new StoredConfigInvalidError(`stored '${row.section}' configuration no longer validates: ${parsed.error.message}`);
  return parsed.data as OperatorConfig[S];
}

export async function loadOperatorConfig(db: D1Database, homeCountry: string): Promise<OperatorConfig> {
  const { results } = await db.prepare("SELECT * FROM operator_config").all<ConfigRow>();
  const config = defaultOperatorConfig(homeCountry);
  for (const row of results) {
    if (row.section in CONFIG_SECTION_SCHEMAS) Object.assign(config, { [row.section]: parseStored(row) });
  }
  return config;
}

export async function getConfigSection<S extends ConfigSection>(db: D1Database, section: S, homeCountry: string): Promise<VersionedSection<S>> {
  const row = await db.prepare("SELECT * FROM operator_config WHERE section = ?").bind(section).first<ConfigRow & { section: S }>();
  if (!row) return { section, document: defaultSection(section, homeCountry), version: 0, updatedAt: null, updatedBy: null };
  return { section, document: parseStored(row), version: row.version, updatedAt: new Date(row.updated_at).toISOString(), updatedBy: row.updated_by };
}

export type ConfigWriteResult<S extends ConfigSection> = { section: VersionedSection<S> } | { error: "ERR_VERSION_CONFLICT"; current: VersionedSection<S> };

/** Replaces a section; `basedOn` is the version the client read (0 for a section never written). */
export async function putConfigSection<S extends ConfigSection>(
  db: D1Database,
  section: S,
  document: OperatorConfig[S],
  basedOn: number,
  who: AuditActor,
  nowMs: number,
  homeCountry: string,
): Promise<ConfigWriteResult<S>> {
  const current = await getConfigSection(db, section, homeCountry);
  if (current.version !== basedOn) return { error: "ERR_VERSION_CONFLICT", current };
  const json = JSON.stringify(document);
  const write =
    basedOn === 0
      ? db.prepare("INSERT INTO operator_config (section, document, version, updated_at, updated_by) VALUES (?, ?, 1, ?, ?) ON CONFLICT (section) DO NOTHING").bind(section, json, nowMs, who.actor)
      : db.prepare("UPDATE operator_config SET document = ?, version = version + 1, updated_at = ?, updated_by = ? WHERE section = ? AND version = ?").bind(json, nowMs, who.actor, section, basedOn);
  const applied = await applyAudited(
    db,
    write,
    { ...who, entity: "config", entityId: section, operation: basedOn === 0 ? "create" : "update", before: basedOn === 0 ? null : current.document, after: document, atMs: nowMs },
    { bumpsOriginVersion: true },
  );
  const latest = await getConfigSection(db, section, homeCountry);
  return applied ? { section: latest } : { error: "ERR_VERSION_CONFLICT", current: latest };
}
