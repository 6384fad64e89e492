/**
 * @openclaw-mt/runtime-openclaw — the `openclaw` tenant runtime for `@openclaw-mt/gateway`: one real,
 * unmodified OpenClaw gateway process (a cell) per active tenant, behind the multi-tenant front door.
 */
export {
  createOpenClawRuntime,
  OPENCLAW_OPERATOR_SCOPES,
  type OpenClawRuntime,
  type OpenClawRuntimeOptions,
} from './openclaw-runtime.js';
export {
  CELL_CACHE_ALLOWANCE_BYTES,
  type CellInfo,
  type CellState,
  type CellUsage,
  type RestartPolicy,
} from './cell/cell.js';
export { cellLaunch, DEFAULT_CELL_GLIBC_TUNABLES, DEFAULT_CELL_MALLOC_ARENA_MAX, DEFAULT_CELL_NODE_OPTIONS } from './cell/cell-launch.js';
export type { PrimedProcessInfo, PrimedProcessOptions } from './cell/primed-processes.js';
export { diskUsage, treeDiskUsage, type TreeDiskUsage } from './os/disk-usage.js';
export {
  capacityForMemoryBudget,
  cellsForBudget,
  CellMemoryEstimate,
  DEFAULT_CELL_MEMORY_BYTES,
  memoryAdmissionError,
  type MemoryAdmission,
} from './cell/capacity.js';
export { followMemoryCapacity, type CapacityFollowerOptions } from './cell/capacity-follower.js';
export { cellProcessUsage, listProcesses, type CellProcesses, type ProcessEntry } from './os/process-table.js';
export type { PortRange } from './cell/port-allocator.js';
export type { WarmCellInfo, WarmCellOptions, WarmUpState } from './cell/warm-cells.js';
export { createBridgeDevice, loadBridgeDevice, type BridgeDevice } from './bridge/bridge-device.js';
export { OPENCLAW_DENIED_METHODS } from './policy/method-policy.js';
export { checkConfigWrite, REDACTED_SENTINEL } from './policy/config-guard.js';
export { ADMIN_SCOPE, privilegesOf, type PrivilegeGrants, type TenantPrivileges } from './policy/privileges.js';
export { DEFAULT_LOCKED_CONFIG_PATHS } from './config/cell-config.js';
export { parseJson5, Json5Error } from './config/json5.js';
export {
  openClawRuntimeSettingsSchema,
  parseOpenClawRuntimeSettings,
  openClawRuntimeOptionsFromSettings,
  modelGatewaySettingsSchema,
  type ModelGatewaySettings,
  type OpenClawRuntimeSettings,
} from './config/runtime-settings.js';
export { tenantUserName, deleteTenantUser, osUsersAvailable, TENANT_ACCOUNT_IDS, type TenantUser } from './os/tenant-user.js';
export { pruneRetiredAccounts, retiredAccounts, type KeptReason, type PruneOptions, type PruneResult } from './os/retired-accounts.js';
export { sandboxSupport, type SandboxSupport } from './sandbox/sandbox-support.js';
export { SANDBOX_TENANT_ROOT, type CellEgress } from './sandbox/sandbox-command.js';
export type { CellModels, CellModelGateway } from './cell/cell-models.js';
export {
  installOpenClawRuntime,
  resolveOpenClawInstall,
  defaultRuntimeDir,
  nodePackageName,
  DEFAULT_OPENCLAW_VERSION,
  DEFAULT_NODE_VERSION,
  MIN_NODE_VERSION,
  RUNTIME_DIR_ENV,
  type OpenClawInstall,
  type InstallRuntimeOptions,
  type InstallRuntimeResult,
} from './install/runtime-install.js';
export { createControlUiRoute, controlUiDirectory, type ControlUiRouteOptions } from './control-ui/control-ui-route.js';
export { createHttpApiRoute, MAX_HOOKS_BODY_BYTES, MAX_V1_BODY_BYTES, type HttpApiRouteOptions } from './http-api/http-api-route.js';
export type { HttpApi, HttpApiSettings } from './http-api/http-apis.js';
