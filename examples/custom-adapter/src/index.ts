/**
 * @openclaw-mt/example-custom-adapter — a third-party openclaw-mt storage adapter on SQLite, written
 * only from core's public contracts and helpers, and checked by core's conformance kit.
 */
export { type SqliteAdapter, type SqliteAdapterOptions, createSqliteAdapter } from './sqlite-adapter.js';
export { type SqliteTokenStoreOptions, createSqliteTokenStore } from './sqlite-token-store.js';
export { type SqliteConfigSourceOptions, createSqliteConfigSource } from './sqlite-config-source.js';
export { type SqliteWorkspaceStoreOptions, createSqliteWorkspaceStore } from './sqlite-workspace-store.js';
export { type SharedDatabase, type OpenDatabaseOptions, openDatabase } from './database.js';
export { type SqliteAdapterFactoryOptions, sqliteAdapterFactory } from './sqlite-adapter-factory.js';
