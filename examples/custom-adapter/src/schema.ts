/**
 * The SQLite schema of the example adapter: one table (or two) per contract.
 *
 * - `tokens` / `token_changes`: token records keyed by hash, plus a change log that watchers poll.
 * - `configs` / `config_changes`: the latest entry per tenant, stamped with a global sequence number
 *   (the `changes()` cursor), plus a change log of full entries that watchers poll.
 * - `workspaces` / `workspace_files`: one row per workspace (existence + template manifest) and one
 *   row per file.
 */

/** Bumped whenever the DDL below changes; stored in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1;

/** Idempotent DDL for {@link SCHEMA_VERSION}. */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS tokens (
  token_hash    TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL,
  status        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER,
  label         TEXT,
  rotated_to    TEXT,
  tenant_status TEXT
);
-- listByTenant is "oldest first": created_at, then insertion order (rowid) for ties.
CREATE INDEX IF NOT EXISTS tokens_by_tenant ON tokens (tenant_id, created_at);

-- AUTOINCREMENT so a sequence number is never reused, even after old rows are pruned.
CREATE TABLE IF NOT EXISTS token_changes (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  type       TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  tenant_id  TEXT NOT NULL,
  at         INTEGER NOT NULL
);

-- removed = 1 is a tombstone: the tenant is forgotten, but its version stays as a high-water mark
-- so a later set() never reuses a version number.
CREATE TABLE IF NOT EXISTS configs (
  tenant_id  TEXT PRIMARY KEY,
  status     TEXT NOT NULL,
  config     TEXT NOT NULL,
  version    INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  removed    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS configs_by_seq ON configs (seq);

CREATE TABLE IF NOT EXISTS config_changes (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  entry     TEXT NOT NULL,
  at        INTEGER NOT NULL
);

-- manifest is the JSON TemplateManifest of syncWorkspaceTemplate (NULL before the first sync).
CREATE TABLE IF NOT EXISTS workspaces (
  tenant_id  TEXT PRIMARY KEY,
  manifest   TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS workspace_files (
  tenant_id   TEXT NOT NULL,
  name        TEXT NOT NULL,
  data        BLOB NOT NULL,
  modified_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
`;
