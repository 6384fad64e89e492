/**
 * @openclaw-mt/adapter-fs — openclaw-mt's three storage contracts (tokens, tenant configs, tenant
 * workspaces) on local disk, for a single host where the gateway and the CLI run as separate
 * processes over the same files.
 */
export { type FsAdapter, type FsAdapterOptions, createFsAdapter } from './fs-adapter.js';
export { type FsTokenStore, type FsTokenStoreOptions, createFsTokenStore } from './fs-token-store.js';
export { type FsConfigSource, type FsConfigSourceOptions, createFsConfigSource } from './fs-config-source.js';
export { type FsWorkspaceStore, type FsWorkspaceStoreOptions, createFsWorkspaceStore } from './fs-workspace-store.js';
export { type FsAuditLogOptions, createFsAuditLog } from './fs-audit-log.js';
export { type FsAdapterFactoryOptions, fsAdapterFactory } from './fs-adapter-factory.js';
