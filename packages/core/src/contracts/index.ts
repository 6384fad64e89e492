/**
 * @openclaw-mt/core/contracts — what an adapter implements and the rules it enforces: the contract
 * types, and the checks every implementation applies to its input (tenant ids, workspace paths and
 * limits, token records, config entries, audit entries), the template-follow rule, change-feed
 * listeners and cursors. Use these rather than re-implementing the policy.
 */
export type * from './types.js';
export { type Listeners, createListeners, scopedListeners } from './listeners.js';
export { DEFAULT_PROVIDER_ID } from './tenant-secret-store.js';
export { parseSequenceCursor } from './sequence-cursor.js';

export {
  MAX_TENANT_ID_LENGTH,
  tenantIdProblem,
  isValidTenantId,
  assertTenantId,
  tenantDirName,
  tenantIdFromDirName,
} from '../tenants/tenant-id.js';

export {
  MAX_PATH_LENGTH,
  MAX_PATH_DEPTH,
  MAX_SEGMENT_LENGTH,
  workspacePathProblem,
  assertWorkspacePath,
  isValidWorkspacePath,
  isUnderPrefix,
  assertNoFileFolderClash,
  type WorkspaceTreeView,
} from '../workspace/workspace-path.js';
export { WorkspaceLayout, WORKSPACE_FILES, WORKSPACE_DIRECTORIES } from '../workspace/workspace-layout.js';
export {
  type WorkspaceTemplate,
  createWorkspaceTemplate,
  defaultWorkspaceTemplate,
  loadWorkspaceTemplate,
} from '../workspace/workspace-template.js';
export { type TemplateManifest, type TemplateSyncIO, syncWorkspaceTemplate } from '../workspace/template-sync.js';
export { DEFAULT_WORKSPACE_LIMITS, resolveWorkspaceLimits, assertWithinLimits, toBytes } from '../workspace/workspace-limits.js';

export { tokenRecordProblem, assertTokenRecord, assertTokenHash, isTokenUsable } from '../tokens/token-record.js';
export { isTokenHash } from '../tokens/token-hasher.js';

export {
  MAX_TENANT_CONFIG_BYTES,
  MAX_TENANT_CONFIG_DEPTH,
  tenantConfigProblem,
  assertTenantConfig,
  configEntryProblem,
  assertConfigEntry,
  mergeTenantConfig,
} from '../config/tenant-config.js';

export { assertAuditEntry, filterAuditEntries } from '../audit/audit-entry.js';
