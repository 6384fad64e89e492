import { MultiTenantError } from '@openclaw-mt/core';
import type { HttpApi } from '../http-api/http-apis.js';

/** OpenClaw's scope for everything that changes the cell itself: config writes, terminals, agent sandbox modes. */
export const ADMIN_SCOPE = 'operator.admin';

/**
 * Tenants the operator trusts with more than the least-privilege default, by tenant id (`"*"` for
 * every tenant). Without a grant a tenant gets no `operator.admin` scope on its cell and no
 * `terminal.*` method (a shell as the cell's user). OpenClaw itself asks `operator.admin` of the
 * terminal methods too, so a terminal needs both grants.
 */
export interface PrivilegeGrants {
  /** Tenants whose clients may hold `operator.admin` on their cell. */
  admin?: readonly string[];
  /** Tenants whose clients may call `terminal.*`. */
  terminal?: readonly string[];
}

/** What one tenant may do beyond the default. */
export interface TenantPrivileges {
  admin: boolean;
  terminal: boolean;
}

function granted(list: readonly string[] | undefined, tenantId: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(tenantId));
}

/** The privileges the operator granted `tenantId`. */
export function privilegesOf(grants: PrivilegeGrants, tenantId: string): TenantPrivileges {
  return { admin: granted(grants.admin, tenantId), terminal: granted(grants.terminal, tenantId) };
}

/** Whether a method opens or drives a terminal on the cell's host. */
export function isTerminalMethod(method: string): boolean {
  return method === 'terminal' || method.startsWith('terminal.');
}

/** The scopes a tenant's clients may be granted: the operator's maximum, without `operator.admin` unless granted. */
export function scopesFor(maximum: readonly string[], privileges: TenantPrivileges): string[] {
  return maximum.filter((scope) => scope !== ADMIN_SCOPE || privileges.admin);
}

/** Whether a tenant may call `method` as far as privileges go. */
export function privilegeAllows(method: string, privileges: TenantPrivileges): boolean {
  return !isTerminalMethod(method) || privileges.terminal;
}

/** Refuses (`BAD_REQUEST`, `details.reason: "privilege-required"`) a method the tenant was not granted. */
export function checkPrivilege(method: string, privileges: TenantPrivileges): void {
  if (privilegeAllows(method, privileges)) return;
  throw new MultiTenantError('BAD_REQUEST', `${method} is not enabled for this account; the operator can enable terminals per tenant.`, {
    details: { reason: 'privilege-required', privilege: 'terminal' },
  });
}

/**
 * Refuses `/v1/*` to a tenant without `admin`: OpenClaw grants a bearer there its full operator
 * (`operator.admin`, owner semantics). `BAD_REQUEST`, HTTP 403, `details.reason: "privilege-required"`.
 */
export function checkHttpApiPrivilege(api: HttpApi, privileges: TenantPrivileges): void {
  if (api === 'hooks' || privileges.admin) return;
  throw new MultiTenantError(
    'BAD_REQUEST',
    "OpenClaw's /v1 API acts as the gateway's full operator, so it needs the admin privilege; the operator can grant it per tenant.",
    { details: { reason: 'privilege-required', privilege: 'admin', status: 403 } },
  );
}
