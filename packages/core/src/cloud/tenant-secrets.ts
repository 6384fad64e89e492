import { z } from 'zod';
import { DEFAULT_PROVIDER_ID, type ProviderCredential, type TenantSecretStore } from '../contracts/tenant-secret-store.js';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { assertTenantId } from '../tenants/tenant-id.js';
import { createDebouncedWriter } from './debounced-writer.js';
import { readStateFile, writeStateFile } from './state-file.js';

const PROVIDER_ID = /^[A-Za-z0-9._-]{1,64}$/;

const credentialSchema = z.strictObject({
  apiKey: z
    .string()
    .min(1)
    .max(4_096)
    .regex(/^[\x21-\x7e]+$/),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .max(2_048)
    .optional(),
});

const fileSchema = z.object({
  v: z.literal(1),
  tenants: z.record(z.string(), z.record(z.string().regex(PROVIDER_ID), credentialSchema)),
});

/** Checks credentials before they are stored; throws `CONFIG_INVALID` without echoing a value. */
function validCredentials(credentials: Readonly<Record<string, ProviderCredential>>): Record<string, ProviderCredential> {
  const out: Record<string, ProviderCredential> = {};
  for (const [providerId, credential] of Object.entries(credentials ?? {})) {
    if (!PROVIDER_ID.test(providerId)) throw new MultiTenantError('CONFIG_INVALID', 'A provider id is letters, digits, ".", "_" or "-".');
    const parsed = credentialSchema.safeParse(credential);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join('.') ?? 'credential';
      throw new MultiTenantError('CONFIG_INVALID', `Invalid credential for provider ${providerId}: ${field} is not acceptable.`);
    }
    out[providerId] = parsed.data.baseUrl === undefined ? { apiKey: parsed.data.apiKey } : ({ ...parsed.data } as ProviderCredential);
  }
  return out;
}

function sameCredentials(a: Record<string, ProviderCredential> | undefined, b: Record<string, ProviderCredential>): boolean {
  if (a === undefined) return Object.keys(b).length === 0;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => a[key]?.apiKey === b[key]?.apiKey && a[key]?.baseUrl === b[key]?.baseUrl);
}

function secretStore(
  name: string,
  tenants: Map<string, Record<string, ProviderCredential>>,
  ready: () => Promise<void>,
  changed: () => void,
  close: () => Promise<void>,
): TenantSecretStore {
  return {
    name,
    async resolve(tenantId, providerId) {
      await ready();
      const credentials = tenants.get(assertTenantId(tenantId));
      const credential = credentials?.[providerId] ?? credentials?.[DEFAULT_PROVIDER_ID];
      return credential && { ...credential };
    },
    async set(tenantId, credentials) {
      const id = assertTenantId(tenantId);
      const next = validCredentials(credentials);
      await ready();
      if (sameCredentials(tenants.get(id), next)) return;
      if (Object.keys(next).length === 0) tenants.delete(id);
      else tenants.set(id, next);
      changed();
    },
    async remove(tenantId) {
      const id = assertTenantId(tenantId);
      await ready();
      const existed = tenants.delete(id);
      if (existed) changed();
      return existed;
    },
    close,
  };
}

/** Tenant secrets in process memory (tests, the memory adapter). */
export function createMemoryTenantSecretStore(): TenantSecretStore {
  return secretStore(
    'memory',
    new Map(),
    async () => undefined,
    () => undefined,
    async () => undefined,
  );
}

/**
 * Tenant secrets in one JSON file (mode 0600, written atomically, at most every `flushDelayMs`), kept next to
 * the gateway's other state. A corrupt file is reported through `onError` and treated as empty: the next sync
 * fills it again from the backend.
 */
export function createFileTenantSecretStore(
  path: string,
  options: { flushDelayMs?: number; onError?: (error: MultiTenantError) => void } = {},
): TenantSecretStore {
  if (typeof path !== 'string' || path.length === 0)
    throw new MultiTenantError('CONFIG_INVALID', 'tenant secrets path: expected a file path.');
  const tenants = new Map<string, Record<string, ProviderCredential>>();
  const report = (message: string, cause?: unknown) =>
    options.onError?.(new MultiTenantError('BACKEND_UNAVAILABLE', message, cause === undefined ? {} : { cause }));
  let loading: Promise<void> | undefined;
  const ready = () => {
    loading ??= (async () => {
      const text = await readStateFile(path).catch((error: unknown) => {
        report(`Cannot read the tenant secrets file ${path}.`, error);
        return undefined;
      });
      if (text === undefined) return;
      const parsed = fileSchema.safeParse(
        (() => {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            return undefined;
          }
        })(),
      );
      if (!parsed.success) return report(`The tenant secrets file ${path} is unreadable; it is refilled by the next sync.`);
      for (const [tenantId, credentials] of Object.entries(parsed.data.tenants))
        tenants.set(tenantId, credentials as Record<string, ProviderCredential>);
    })();
    return loading;
  };
  const writer = createDebouncedWriter(
    () => writeStateFile(path, `${JSON.stringify({ v: 1, tenants: Object.fromEntries(tenants) })}\n`),
    options.flushDelayMs ?? 200,
    (error) => report(`Cannot write the tenant secrets file ${path}.`, error),
  );
  return secretStore(
    'file',
    tenants,
    ready,
    () => writer.schedule(),
    () => writer.flush(),
  );
}
