import { hash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { TenantConfigEntry } from '../contracts/config-source.js';
import type { TokenRecord } from '../contracts/token-store.js';
import { configEntryProblem } from '../config/tenant-config.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { tenantIdProblem } from '../tenants/tenant-id.js';
import { tokenRecordProblem } from '../tokens/token-record.js';
import { workspacePathProblem } from '../workspace/workspace-path.js';

/** The `format` field of every tenant archive. */
export const TENANT_ARCHIVE_FORMAT = 'openclaw-mt.tenant-archive';
/** The archive version this build writes and reads. */
export const TENANT_ARCHIVE_VERSION = 1;
/** Largest archive {@link decodeTenantArchive} inflates by default (1 GiB of JSON). */
export const MAX_TENANT_ARCHIVE_BYTES = 1024 * 1024 * 1024;

/** One workspace file in an archive. */
export interface TenantArchiveFile {
  /** Relative name, as accepted by `assertWorkspacePath`. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Hex SHA-256 of the content, checked on decode and after every import. */
  sha256: string;
  /** The content, base64. */
  data: string;
}

/**
 * Everything one tenant owns, in a form that moves between adapters: the workspace files, the config
 * entry and the token records. Token records hold hashes only, never tokens, so a token keeps
 * authenticating after a move as long as the gateways share the peppers.
 */
export interface TenantArchive {
  format: typeof TENANT_ARCHIVE_FORMAT;
  version: typeof TENANT_ARCHIVE_VERSION;
  tenantId: string;
  /** Epoch milliseconds of the export. */
  exportedAt: number;
  /** The config entry, or `null` when the source had none. */
  config: TenantConfigEntry | null;
  /** Every token record of the tenant, or `null` when the source cannot list tokens (they are left alone on import). */
  tokens: TokenRecord[] | null;
  /** The workspace files sorted by name, or `null` when the tenant has no workspace. */
  workspace: { files: TenantArchiveFile[] } | null;
}

const TOP_KEYS = new Set(['format', 'version', 'tenantId', 'exportedAt', 'config', 'tokens', 'workspace']);
const FILE_KEYS = new Set(['name', 'size', 'sha256', 'data']);
const TOKEN_KEYS = ['tokenHash', 'tenantId', 'status', 'createdAt', 'expiresAt', 'label', 'rotatedTo', 'tenantStatus'] as const;
const ENTRY_KEYS = ['tenantId', 'status', 'config', 'version', 'updatedAt'] as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Hex SHA-256 of bytes, as archives record it. */
export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKey(value: Record<string, unknown>, allowed: ReadonlySet<string>): string | undefined {
  return Object.keys(value).find((key) => !allowed.has(key));
}

function pick<K extends string>(value: Record<string, unknown>, keys: readonly K[]): Record<K, unknown> {
  const out = {} as Record<K, unknown>;
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

function tokensProblem(tokens: unknown, tenantId: string): string | undefined {
  if (tokens === null) return undefined;
  if (!Array.isArray(tokens)) return 'tokens: expected an array or null';
  const seen = new Set<string>();
  for (const [index, record] of tokens.entries()) {
    const problem = tokenRecordProblem(record);
    if (problem !== undefined) return `tokens[${index}]: ${problem}`;
    const { tokenHash, tenantId: owner, tenantStatus } = record as TokenRecord;
    if (owner !== tenantId) return `tokens[${index}]: belongs to "${owner}", not to the archive's tenant`;
    if (tenantStatus !== undefined && !['active', 'suspended', 'deleted'].includes(tenantStatus))
      return `tokens[${index}]: tenantStatus is invalid`;
    if (Object.keys(record as object).some((key) => !(TOKEN_KEYS as readonly string[]).includes(key))) {
      return `tokens[${index}]: unknown field (records hold hashes and metadata only)`;
    }
    if (seen.has(tokenHash)) return `tokens[${index}]: duplicate token hash`;
    seen.add(tokenHash);
  }
  return undefined;
}

function filesProblem(workspace: unknown): string | undefined {
  if (workspace === null) return undefined;
  if (!isPlainObject(workspace) || !Array.isArray(workspace.files)) return 'workspace: expected { files: [...] } or null';
  if (unknownKey(workspace, new Set(['files'])) !== undefined) return 'workspace: unknown field';
  const names = new Set<string>();
  for (const [index, file] of (workspace.files as unknown[]).entries()) {
    const at = `workspace.files[${index}]`;
    if (!isPlainObject(file)) return `${at}: expected an object`;
    const extra = unknownKey(file, FILE_KEYS);
    if (extra !== undefined) return `${at}: unknown field "${extra}"`;
    const pathProblem = workspacePathProblem(file.name);
    if (pathProblem !== undefined) return `${at}.name: ${pathProblem}`;
    const name = file.name as string;
    if (names.has(name)) return `${at}.name: duplicate file ${name}`;
    names.add(name);
    if (!Number.isSafeInteger(file.size) || (file.size as number) < 0) return `${at}.size: expected a byte count`;
    if (typeof file.sha256 !== 'string' || !SHA256.test(file.sha256)) return `${at}.sha256: expected 64 lowercase hex characters`;
    if (typeof file.data !== 'string' || file.data.length % 4 !== 0 || !BASE64.test(file.data)) return `${at}.data: expected base64`;
    const bytes = Buffer.from(file.data, 'base64');
    if (bytes.byteLength !== file.size) return `${at}: size ${String(file.size)} does not match the content (${bytes.byteLength} bytes)`;
    if (sha256Hex(bytes) !== file.sha256) return `${at}: the content does not match its sha256`;
  }
  // A name cannot be both a file and a directory: no adapter could hold both.
  for (const name of names) {
    const segments = name.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      if (names.has(parent)) return `workspace.files: ${parent} is both a file and a directory`;
    }
  }
  return undefined;
}

/** Why `value` is not a valid {@link TenantArchive}, or `undefined` when it is. */
export function tenantArchiveProblem(value: unknown): string | undefined {
  if (!isPlainObject(value)) return 'expected a JSON object';
  if (value.format !== TENANT_ARCHIVE_FORMAT) return `not an openclaw-mt tenant archive (format must be "${TENANT_ARCHIVE_FORMAT}")`;
  if (value.version !== TENANT_ARCHIVE_VERSION) {
    return `archive version ${JSON.stringify(value.version)} is not supported (this build reads version ${TENANT_ARCHIVE_VERSION})`;
  }
  const extra = unknownKey(value, TOP_KEYS);
  if (extra !== undefined) return `unknown field "${extra}"`;
  const idProblem = tenantIdProblem(value.tenantId);
  if (idProblem !== undefined) return `tenantId: ${idProblem}`;
  const tenantId = value.tenantId as string;
  if (!Number.isSafeInteger(value.exportedAt) || (value.exportedAt as number) < 0) return 'exportedAt: expected epoch milliseconds';
  if (value.config !== null) {
    const problem = configEntryProblem(value.config);
    if (problem !== undefined) return `config: ${problem}`;
    const entry = value.config as Record<string, unknown>;
    if (entry.tenantId !== tenantId) return 'config: belongs to another tenant';
    if (unknownKey(entry, new Set(ENTRY_KEYS)) !== undefined) return 'config: unknown field';
  }
  return tokensProblem(value.tokens, tenantId) ?? filesProblem(value.workspace);
}

/**
 * Validates an archive — format, version, tenant id, config entry, token records (hashes only, all
 * of the archive's tenant), file names, sizes and per-file SHA-256 — and returns a clean copy.
 * Throws `BAD_REQUEST` naming the first problem; nothing is written anywhere before this passes.
 */
export function assertTenantArchive(value: unknown): TenantArchive {
  const problem = tenantArchiveProblem(value);
  if (problem !== undefined) {
    throw new MultiTenantError('BAD_REQUEST', `Invalid tenant archive: ${problem}.`, { details: { reason: problem } });
  }
  const archive = value as TenantArchive;
  return {
    format: TENANT_ARCHIVE_FORMAT,
    version: TENANT_ARCHIVE_VERSION,
    tenantId: archive.tenantId,
    exportedAt: archive.exportedAt,
    config:
      archive.config === null
        ? null
        : (structuredClone(pick(archive.config as unknown as Record<string, unknown>, ENTRY_KEYS)) as unknown as TenantConfigEntry),
    tokens:
      archive.tokens === null
        ? null
        : archive.tokens.map((record) => pick(record as unknown as Record<string, unknown>, TOKEN_KEYS) as unknown as TokenRecord),
    workspace:
      archive.workspace === null
        ? null
        : { files: archive.workspace.files.map((file) => ({ name: file.name, size: file.size, sha256: file.sha256, data: file.data })) },
  };
}

/** An archive file's content. */
export function archiveFileBytes(file: TenantArchiveFile): Uint8Array {
  const buffer = Buffer.from(file.data, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** An archive file entry for `name` holding `data`. */
export function archiveFile(name: string, data: Uint8Array): TenantArchiveFile {
  return {
    name,
    size: data.byteLength,
    sha256: sha256Hex(data),
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
}

/** The archive as bytes: gzipped JSON. Validates first (`BAD_REQUEST`). */
export function encodeTenantArchive(archive: TenantArchive): Uint8Array {
  const valid = assertTenantArchive(archive);
  const buffer = gzipSync(JSON.stringify(valid));
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Reads an archive written by {@link encodeTenantArchive} and validates it completely. Anything else —
 * not gzip, not JSON, another format or version, a damaged file — is `BAD_REQUEST`.
 */
export function decodeTenantArchive(bytes: Uint8Array, options: { maxBytes?: number } = {}): TenantArchive {
  let text: string;
  try {
    text = gunzipSync(bytes, { maxOutputLength: options.maxBytes ?? MAX_TENANT_ARCHIVE_BYTES }).toString('utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'the archive is too large' : 'not a gzip file';
    throw new MultiTenantError('BAD_REQUEST', `Invalid tenant archive: ${reason}.`, { cause: error, details: { reason } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MultiTenantError('BAD_REQUEST', 'Invalid tenant archive: the content is not JSON.', {
      cause: error,
      details: { reason: 'not JSON' },
    });
  }
  return assertTenantArchive(value);
}
