import { join, resolve } from 'node:path';
import { defineAdapter, MultiTenantError } from '@openclaw-mt/core';
import { createSqliteAdapter } from './sqlite-adapter.js';

/** Options as the operator config gives them: `{ "adapter": { "module": "…", "options": { "filename": "…" } } }`. */
export interface SqliteAdapterFactoryOptions extends Record<string, unknown> {
  /** The SQLite file (relative to the config file's directory); default `<dataDir>/tenants.sqlite`. */
  filename?: string;
  /** How often `watch` polls the change logs, in ms (default 250). */
  pollIntervalMs?: number;
}

/**
 * The SQLite adapter as configuration names it, so `openclaw-mt serve`, every CLI command, `doctor` and
 * `migrate` use it unchanged. This factory is the module's default export (see `adapter-module.ts`).
 */
export const sqliteAdapterFactory = defineAdapter<SqliteAdapterFactoryOptions>({
  name: 'sqlite',
  async open(options, context) {
    const { filename, pollIntervalMs } = options;
    if (filename !== undefined && (typeof filename !== 'string' || filename === ''))
      throw new MultiTenantError('CONFIG_INVALID', 'adapter.options.filename: expected a file path.', { details: { key: 'filename' } });
    if (pollIntervalMs !== undefined && !(Number.isInteger(pollIntervalMs) && pollIntervalMs > 0))
      throw new MultiTenantError('CONFIG_INVALID', 'adapter.options.pollIntervalMs: expected a positive integer.', {
        details: { key: 'pollIntervalMs' },
      });
    const path = filename === undefined ? join(context.dataDir, 'tenants.sqlite') : resolve(context.configDir, filename);
    const adapter = createSqliteAdapter({
      filename: path,
      template: context.template,
      limits: context.limits,
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    });
    return {
      tokens: adapter.tokens,
      configs: adapter.configs,
      workspaces: adapter.workspaces,
      description: `sqlite at ${path}`,
      check: () => adapter.check(),
      close: () => adapter.close(),
    };
  },
});
