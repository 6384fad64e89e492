import type { TenantConfigEntry } from '../contracts/config-source.js';
import type { TenantClaim } from '../contracts/coordinator.js';
import type { TokenRecord } from '../contracts/token-store.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { assertWithinLimits } from '../workspace/workspace-limits.js';
import { tenantTokenRecords } from './export-tenant.js';
import { archiveFileBytes, assertTenantArchive, sha256Hex, type TenantArchive } from './tenant-archive.js';
import type { TransferStores } from './transfer-stores.js';
import { isNeutralEntry, sameConfigContent, sameTokenRecord, verificationError, verifyTenant } from './verify-tenant.js';

/** Options of {@link importTenant}. */
export interface ImportTenantOptions {
  /**
   * Overwrite a tenant the target already holds: its workspace becomes the archive's file set, its
   * config the archive's, and its active tokens missing from the archive are revoked.
   */
  replace?: boolean;
}

/** What {@link importTenant} did. */
export interface ImportTenantResult {
  tenantId: string;
  /** Whether the target held the tenant before. */
  replaced: boolean;
  /** Whether anything was written. */
  changed: boolean;
  files: { written: number; removed: number; unchanged: number; destroyed: boolean };
  config: 'written' | 'unchanged' | 'reset';
  tokens: { created: number; revoked: number; unchanged: number };
}

type ConfigStep =
  | { kind: 'none' }
  | { kind: 'put'; entry: TenantConfigEntry }
  | { kind: 'set'; entry: Pick<TenantConfigEntry, 'status' | 'config'> };

interface Plan {
  existed: boolean;
  workspace: 'sync' | 'destroy' | 'none';
  config: ConfigStep;
  configOutcome: ImportTenantResult['config'];
  create: TokenRecord[];
  revoke: string[];
  unchangedTokens: number;
}

const hashHint = (tokenHash: string) => `${tokenHash.slice(0, 12)}…`;

function unsupported(what: string): MultiTenantError {
  return new MultiTenantError('NOT_SUPPORTED', `The target cannot ${what}; import into a writable store.`);
}

async function planTokens(
  stores: TransferStores,
  archive: TenantArchive,
  targetTokens: TokenRecord[] | null,
  replace: boolean,
): Promise<Pick<Plan, 'create' | 'revoke' | 'unchangedTokens'>> {
  const plan = { create: [] as TokenRecord[], revoke: [] as string[], unchangedTokens: 0 };
  if (archive.tokens === null) return plan;
  const { tokens } = stores;
  const known = new Map((targetTokens ?? []).map((record) => [record.tokenHash, record]));
  for (const record of archive.tokens) {
    let stored = known.get(record.tokenHash);
    if (stored === undefined) {
      if (tokens.get === undefined) throw unsupported(`look token records up (token store "${tokens.name}")`);
      stored = await tokens.get(record.tokenHash);
    }
    if (stored === undefined) plan.create.push(record);
    else if (stored.tenantId !== archive.tenantId) {
      throw new MultiTenantError('CONFLICT', `Token ${hashHint(record.tokenHash)} belongs to another tenant in the target.`, {
        details: { reason: 'token-owner' },
      });
    } else if (sameTokenRecord(stored, record)) plan.unchangedTokens++;
    else if (record.status === 'revoked' && sameTokenRecord({ ...stored, status: 'revoked' }, record)) plan.revoke.push(record.tokenHash);
    else {
      throw new MultiTenantError('CONFLICT', `Token ${hashHint(record.tokenHash)} differs in the target and a store cannot rewrite it.`, {
        details: { reason: 'token-differs' },
      });
    }
  }
  if (replace && targetTokens !== null) {
    const archived = new Set(archive.tokens.map((record) => record.tokenHash));
    for (const record of targetTokens)
      if (!archived.has(record.tokenHash) && record.status === 'active') plan.revoke.push(record.tokenHash);
  }
  if (plan.create.length > 0 && (tokens.create === undefined || !tokens.capabilities.write))
    throw unsupported(`store tokens (token store "${tokens.name}" is read-only)`);
  if (plan.revoke.length > 0 && tokens.revoke === undefined) throw unsupported(`revoke tokens (token store "${tokens.name}")`);
  return plan;
}

function planConfig(
  stores: TransferStores,
  archive: TenantArchive,
  current: TenantConfigEntry | undefined,
): Pick<Plan, 'config' | 'configOutcome'> {
  const { configs } = stores;
  const wanted = archive.config;
  if (wanted === null) {
    // No entry and a neutral entry mean the same; a set (unlike remove) reaches watching gateways.
    if (current === undefined || isNeutralEntry(current)) return { config: { kind: 'none' }, configOutcome: 'unchanged' };
    if (configs.set === undefined) throw unsupported(`write configs (config source "${configs.name}")`);
    return { config: { kind: 'set', entry: { status: 'active', config: {} } }, configOutcome: 'reset' };
  }
  if (current !== undefined && current.version >= wanted.version && sameConfigContent(current, wanted))
    return { config: { kind: 'none' }, configOutcome: 'unchanged' };
  if ((current === undefined || current.version < wanted.version) && configs.put !== undefined)
    return { config: { kind: 'put', entry: wanted }, configOutcome: 'written' };
  if (configs.set === undefined) throw unsupported(`write configs (config source "${configs.name}")`);
  return { config: { kind: 'set', entry: wanted }, configOutcome: 'written' };
}

function checkLimits(stores: TransferStores, archive: TenantArchive): void {
  let total = 0;
  for (const file of archive.workspace?.files ?? []) {
    assertWithinLimits(stores.workspaces.limits, file.name, file.size, 0, total);
    total += file.size;
  }
}

async function makePlan(stores: TransferStores, archive: TenantArchive, replace: boolean): Promise<Plan> {
  const { tenantId } = archive;
  const [current, targetTokens, hasWorkspace] = await Promise.all([
    stores.configs.get(tenantId),
    tenantTokenRecords(stores, tenantId),
    stores.workspaces.exists(tenantId),
  ]);
  const existed = current !== undefined || hasWorkspace || (targetTokens !== null && targetTokens.length > 0);
  if (existed && !replace) {
    throw new MultiTenantError('CONFLICT', `The target already holds ${tenantId}; pass replace (--replace) to overwrite it.`, {
      details: { reason: 'exists', tenantId },
    });
  }
  checkLimits(stores, archive);
  const workspace = archive.workspace !== null ? 'sync' : hasWorkspace ? 'destroy' : 'none';
  return { existed, workspace, ...planConfig(stores, archive, current), ...(await planTokens(stores, archive, targetTokens, replace)) };
}

async function syncWorkspace(
  stores: TransferStores,
  archive: TenantArchive,
  claim: TenantClaim | undefined,
  counts: ImportTenantResult['files'],
): Promise<void> {
  const handle = await stores.workspaces.open(archive.tenantId, claim ? { claim } : {});
  try {
    const wanted = new Map((archive.workspace?.files ?? []).map((file) => [file.name, file]));
    const present = new Map((await handle.list()).map((info) => [info.name, info]));
    // Removals first: they free quota and clear names the archive uses as directories.
    for (const name of present.keys()) {
      if (!wanted.has(name)) {
        await handle.remove(name);
        counts.removed++;
      }
    }
    for (const file of wanted.values()) {
      const info = present.get(file.name);
      if (info !== undefined && info.size === file.size && sha256Hex(await handle.read(file.name)) === file.sha256) {
        counts.unchanged++;
        continue;
      }
      await handle.write(file.name, archiveFileBytes(file));
      counts.written++;
    }
    await handle.flush();
  } finally {
    await handle.close();
  }
}

async function applyConfig(stores: TransferStores, archive: TenantArchive, step: ConfigStep): Promise<void> {
  const { configs } = stores;
  if (step.kind === 'put') {
    if (await configs.put!(step.entry)) return;
    // A newer version arrived in between: write the archive's content on top of it.
  }
  if (step.kind !== 'none') {
    const { status, config } = step.entry;
    await configs.set!(archive.tenantId, { status, config: structuredClone(config) });
  }
}

/**
 * Writes an archive's tenant into `stores`: validates the archive and plans every change against the
 * target first (an invalid archive, an existing tenant without `replace`, a token hash owned by
 * another tenant, a file over the target's limits, a read-only store — each refused with a coded
 * error before anything is written), then writes the workspace, the config entry and finally the
 * token records (hashes, so tokens authenticate as before), and verifies everything by reading it
 * back (an import that writes nothing was verified by its comparison). Writes only what differs, so
 * re-importing the same archive changes nothing. A mismatch after writing fails with `INTERNAL` and
 * the differences in `details.mismatches`.
 */
export async function importTenant(
  stores: TransferStores,
  archiveInput: TenantArchive,
  options: ImportTenantOptions = {},
): Promise<ImportTenantResult> {
  const archive = assertTenantArchive(archiveInput);
  const { tenantId } = archive;
  const plan = await makePlan(stores, archive, options.replace === true);
  const result: ImportTenantResult = {
    tenantId,
    replaced: plan.existed,
    changed: false,
    files: { written: 0, removed: 0, unchanged: 0, destroyed: false },
    config: plan.configOutcome,
    tokens: { created: 0, revoked: 0, unchanged: plan.unchangedTokens },
  };
  const claim = stores.coordinator && plan.workspace !== 'none' ? await stores.coordinator.claim(tenantId) : undefined;
  try {
    if (plan.workspace === 'sync') await syncWorkspace(stores, archive, claim, result.files);
    else if (plan.workspace === 'destroy') result.files.destroyed = await stores.workspaces.destroy(tenantId);
    await applyConfig(stores, archive, plan.config);
    for (const record of plan.create) {
      await stores.tokens.create!(record);
      result.tokens.created++;
    }
    for (const tokenHash of plan.revoke) {
      await stores.tokens.revoke!(tokenHash);
      result.tokens.revoked++;
    }
    const { files, tokens } = result;
    result.changed = files.written + files.removed + tokens.created + tokens.revoked > 0 || files.destroyed || plan.config.kind !== 'none';
    // When nothing was written, planning compared every file digest, the config and every token
    // record with what the target holds: that comparison was the verification.
    if (result.changed) {
      const mismatches = await verifyTenant(stores, archive, claim ? { claim } : {});
      if (mismatches.length > 0) throw verificationError(tenantId, mismatches);
    }
    return result;
  } finally {
    // A release that fails only lets the lease lapse on its own; it must not hide the outcome.
    if (claim !== undefined) await stores.coordinator!.release(claim).catch(() => undefined);
  }
}
