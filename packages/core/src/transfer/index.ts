/**
 * Moving tenants between stores: a versioned archive of one tenant (workspace files with per-file
 * SHA-256, config entry, token records — hashes only), export and import with validation before any
 * write and verification after, and resumable, verified migrations of every tenant.
 */
export {
  TENANT_ARCHIVE_FORMAT,
  TENANT_ARCHIVE_VERSION,
  MAX_TENANT_ARCHIVE_BYTES,
  type TenantArchive,
  type TenantArchiveFile,
  tenantArchiveProblem,
  assertTenantArchive,
  archiveFile,
  archiveFileBytes,
  encodeTenantArchive,
  decodeTenantArchive,
} from './tenant-archive.js';
export { type TransferStores, listStoredTenants } from './transfer-stores.js';
export { type ExportTenantOptions, exportTenant } from './export-tenant.js';
export { type ImportTenantOptions, type ImportTenantResult, importTenant } from './import-tenant.js';
export { type TransferMismatch, verifyTenant } from './verify-tenant.js';
export { type MigrationCheckpoint, createMemoryCheckpoint } from './migration-checkpoint.js';
export {
  type MigrationOutcome,
  type MigrationProgress,
  type MigrationFailure,
  type MigrateTenantsOptions,
  type MigrationReport,
  migrateTenants,
} from './migrate-tenants.js';
