import { join, resolve } from 'node:path';
import { defineAdapter, MultiTenantError } from '@openclaw-mt/core';
import { createFsAdapter } from './fs-adapter.js';

/** Each root and its default folder under `dataDir`. */
const ROOTS = { workspaceRoot: 'workspaces', configRoot: 'configs', tokenRoot: 'tokens', auditRoot: 'audit' } as const;

/** Options of the `fs` adapter as configuration gives them: each root defaults under the operator's `dataDir`. */
export type FsAdapterFactoryOptions = Partial<Record<keyof typeof ROOTS, string>>;

/** The built-in `fs` adapter as configuration names it. */
export const fsAdapterFactory = defineAdapter<FsAdapterFactoryOptions>({
  name: 'fs',
  async open(options, context) {
    const roots: Record<string, string> = {};
    for (const [key, folder] of Object.entries(ROOTS) as Array<[keyof typeof ROOTS, string]>) {
      const value = options[key];
      if (value !== undefined && (typeof value !== 'string' || value === ''))
        throw new MultiTenantError('CONFIG_INVALID', `adapter.options.${key}: expected a directory path.`, { details: { key } });
      roots[key] = value === undefined ? join(context.dataDir, folder) : resolve(context.configDir, value);
    }
    const adapter = createFsAdapter({
      ...roots,
      ...(context.templatePath === undefined ? { template: context.template } : { templatePath: context.templatePath }),
      limits: context.limits,
    });
    return {
      tokens: adapter.tokens,
      configs: adapter.configs,
      workspaces: adapter.workspaces,
      audit: adapter.audit,
      description: `fs at ${context.dataDir}`,
      close: () => adapter.close(),
    };
  },
});
