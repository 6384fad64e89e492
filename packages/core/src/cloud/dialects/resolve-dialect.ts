import { MultiTenantError } from '../../errors/multi-tenant-error.js';
import type { CloudDialect, CloudDialectName } from './cloud-dialect.js';
import { createFbaDialect } from './fba-dialect.js';
import { createV1Dialect } from './v1-dialect.js';

/** Every dialect by name. */
export const CLOUD_DIALECTS: readonly CloudDialectName[] = ['v1', 'fba'];

/**
 * The dialect of a backend, by name (`v1` by default) with an optional route prefix, or a dialect object as
 * given. Throws `CONFIG_INVALID` for an unknown name or a prefix that is not a plain path.
 */
export function resolveCloudDialect(dialect: CloudDialectName | CloudDialect | undefined, pathPrefix?: string): CloudDialect {
  if (typeof dialect === 'object' && dialect !== null) return dialect;
  if (pathPrefix !== undefined && !/^(?:\/[A-Za-z0-9._~-]+)*$/.test(pathPrefix)) {
    throw new MultiTenantError('CONFIG_INVALID', 'cloud.pathPrefix: expected a path such as /api/v1 (or "" for none).');
  }
  const options = pathPrefix === undefined ? {} : { pathPrefix };
  switch (dialect ?? 'v1') {
    case 'v1':
      return createV1Dialect(options);
    case 'fba':
      return createFbaDialect(options);
    default:
      throw new MultiTenantError('CONFIG_INVALID', `cloud.dialect: unknown dialect ${JSON.stringify(dialect)}; expected v1 or fba.`);
  }
}
