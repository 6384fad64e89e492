import type { z } from 'zod';
import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** One bad key of a configuration: its dotted path and what is wrong with it. */
export interface ConfigIssue {
  key: string;
  message: string;
}

/** Checks a config section another package owns; returns its problems (none when valid). */
export type ConfigSectionCheck = (raw: unknown) => readonly ConfigIssue[];

/**
 * Every problem of a failed parse, one per key, under `prefix` (e.g. `multiTenant.gateway`). Zod reports
 * unknown keys as one issue on their parent; each is named here so the operator sees the key itself.
 */
export function configIssues(error: z.ZodError, prefix = ''): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    const parent = [...(prefix === '' ? [] : [prefix]), ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ key: [...parent, key].join('.'), message: 'unknown key' }));
    }
    return [{ key: parent.length === 0 ? '(root)' : parent.join('.'), message: issue.message }];
  });
}

/** The `CONFIG_INVALID` error naming every issue, with the list in `details.issues`. */
export function configInvalid(issues: readonly ConfigIssue[]): MultiTenantError {
  const text = issues.map((issue) => `${issue.key}: ${issue.message}`).join('; ');
  return new MultiTenantError('CONFIG_INVALID', `Invalid configuration: ${text}.`, { details: { issues: [...issues] } });
}

/** The issues a `CONFIG_INVALID` error lists, or `undefined` for any other error. */
export function issuesOf(error: unknown): ConfigIssue[] | undefined {
  if (!(error instanceof MultiTenantError) || error.code !== 'CONFIG_INVALID') return undefined;
  const issues = (error.details as { issues?: unknown } | undefined)?.issues;
  if (Array.isArray(issues)) return issues as ConfigIssue[];
  return [{ key: '(config)', message: error.message }];
}
