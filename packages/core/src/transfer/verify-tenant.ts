import { isDeepStrictEqual } from 'node:util';
import type { TenantConfigEntry } from '../contracts/config-source.js';
import type { TenantClaim } from '../contracts/coordinator.js';
import type { TokenRecord } from '../contracts/token-store.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { sha256Hex, type TenantArchive } from './tenant-archive.js';
import type { TransferStores } from './transfer-stores.js';

/** One difference between an archive and what a store holds. */
export interface TransferMismatch {
  part: 'workspace' | 'config' | 'tokens';
  /** The file name or token hash prefix concerned, when there is one. */
  subject?: string;
  reason: string;
}

const TOKEN_FIELDS = ['tokenHash', 'tenantId', 'status', 'createdAt', 'expiresAt', 'label', 'rotatedTo', 'tenantStatus'] as const;

/** Whether two token records agree field for field (hashes and metadata). */
export function sameTokenRecord(a: TokenRecord, b: TokenRecord): boolean {
  return TOKEN_FIELDS.every((field) => a[field] === b[field]);
}

/** Whether a stored entry carries the archive's config and status (its version may be newer). */
export function sameConfigContent(
  stored: Pick<TenantConfigEntry, 'status' | 'config'>,
  archived: Pick<TenantConfigEntry, 'status' | 'config'>,
): boolean {
  return stored.status === archived.status && isDeepStrictEqual(stored.config, archived.config);
}

/** An entry equivalent to having none: active, with no settings of its own. */
export function isNeutralEntry(entry: Pick<TenantConfigEntry, 'status' | 'config'>): boolean {
  return entry.status === 'active' && Object.keys(entry.config).length === 0;
}

const hashHint = (tokenHash: string) => `${tokenHash.slice(0, 12)}…`;

async function verifyWorkspace(
  stores: TransferStores,
  archive: TenantArchive,
  claim: TenantClaim | undefined,
): Promise<TransferMismatch[]> {
  const { tenantId } = archive;
  const exists = await stores.workspaces.exists(tenantId);
  if (archive.workspace === null) {
    return exists ? [{ part: 'workspace', reason: 'the target has a workspace the archive does not' }] : [];
  }
  if (!exists) return [{ part: 'workspace', reason: 'the target has no workspace' }];
  const out: TransferMismatch[] = [];
  const handle = await stores.workspaces.open(tenantId, claim ? { claim } : {});
  try {
    const stored = new Map((await handle.list()).map((info) => [info.name, info]));
    for (const file of archive.workspace.files) {
      if (!stored.has(file.name)) {
        out.push({ part: 'workspace', subject: file.name, reason: 'missing in the target' });
        continue;
      }
      stored.delete(file.name);
      const digest = sha256Hex(await handle.read(file.name));
      if (digest !== file.sha256)
        out.push({
          part: 'workspace',
          subject: file.name,
          reason: `sha256 ${digest.slice(0, 12)}… in the target, ${file.sha256.slice(0, 12)}… in the archive`,
        });
    }
    for (const name of stored.keys()) out.push({ part: 'workspace', subject: name, reason: 'in the target but not in the archive' });
  } finally {
    await handle.close();
  }
  return out;
}

async function verifyConfig(stores: TransferStores, archive: TenantArchive): Promise<TransferMismatch[]> {
  const stored = await stores.configs.get(archive.tenantId);
  if (archive.config === null) {
    return stored === undefined || isNeutralEntry(stored)
      ? []
      : [{ part: 'config', reason: 'the target has a config entry the archive does not' }];
  }
  if (stored === undefined) return [{ part: 'config', reason: 'the target has no config entry' }];
  if (!sameConfigContent(stored, archive.config))
    return [
      { part: 'config', reason: `status or config differs (target version ${stored.version}, archive version ${archive.config.version})` },
    ];
  if (stored.version < archive.config.version)
    return [{ part: 'config', reason: `the target holds version ${stored.version}, older than the archive's ${archive.config.version}` }];
  return [];
}

async function verifyTokens(stores: TransferStores, archive: TenantArchive): Promise<TransferMismatch[]> {
  if (archive.tokens === null) return [];
  const { tokens } = stores;
  if (tokens.get === undefined) {
    return archive.tokens.length === 0 ? [] : [{ part: 'tokens', reason: `token store "${tokens.name}" cannot look records up` }];
  }
  const out: TransferMismatch[] = [];
  const archived = new Set<string>();
  for (const record of archive.tokens) {
    archived.add(record.tokenHash);
    const stored = await tokens.get(record.tokenHash);
    if (stored === undefined) out.push({ part: 'tokens', subject: hashHint(record.tokenHash), reason: 'missing in the target' });
    else if (!sameTokenRecord(stored, record))
      out.push({ part: 'tokens', subject: hashHint(record.tokenHash), reason: 'the record differs in the target' });
  }
  if (tokens.listByTenant !== undefined && tokens.capabilities.list) {
    for (const record of await tokens.listByTenant(archive.tenantId)) {
      if (!archived.has(record.tokenHash) && record.status === 'active') {
        out.push({ part: 'tokens', subject: hashHint(record.tokenHash), reason: 'an active token in the target is not in the archive' });
      }
    }
  }
  return out;
}

/**
 * Compares what `stores` hold of the archive's tenant with the archive: every file's SHA-256 (read
 * back through a fresh handle), the file set, the config entry's status and config (its version at
 * least the archive's), and every token record field for field, with no other active token. Returns
 * the differences; empty means the target matches.
 */
export async function verifyTenant(
  stores: TransferStores,
  archive: TenantArchive,
  options: { claim?: TenantClaim } = {},
): Promise<TransferMismatch[]> {
  const [workspace, config, tokens] = await Promise.all([
    verifyWorkspace(stores, archive, options.claim),
    verifyConfig(stores, archive),
    verifyTokens(stores, archive),
  ]);
  return [...workspace, ...config, ...tokens];
}

/** The error a failed verification raises: `INTERNAL`, with the differences in `details.mismatches`. */
export function verificationError(tenantId: string, mismatches: TransferMismatch[]): MultiTenantError {
  const first = mismatches.slice(0, 5).map((m) => `${m.part}${m.subject ? ` ${m.subject}` : ''}: ${m.reason}`);
  const more = mismatches.length > 5 ? ` (and ${mismatches.length - 5} more)` : '';
  return new MultiTenantError('INTERNAL', `Verification of ${tenantId} failed: ${first.join('; ')}${more}.`, {
    details: { tenantId, mismatches: mismatches.map((m) => ({ ...m })) },
  });
}
