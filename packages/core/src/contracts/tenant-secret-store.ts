/** A tenant's credential for one model provider. Secret: never in tenant-visible config, never logged. */
export interface ProviderCredential {
  apiKey: string;
  /** The provider endpoint the key belongs to (an OpenAI-compatible base URL). */
  baseUrl?: string;
}

/** The provider id under which a backend's single per-user credential is kept (the fork's `llm_api_key`). */
export const DEFAULT_PROVIDER_ID = 'default';

/**
 * Where per-tenant secrets live — kept apart from tenant configs, which tenants can read back. The Cloud
 * Backend integration fills it from the backend's per-user `llm_api_key` / `llm_api_base_url`; a host (a model
 * gateway) reads it by tenant id with `resolve`. Implementations never log or expose values (no `toJSON`).
 */
export interface TenantSecretStore {
  readonly name: string;
  /**
   * The tenant's credential for `providerId`, else its `default` one, else `undefined`. A credential comes
   * with its own `baseUrl`, so a fallback never sends a key to another provider's endpoint.
   */
  resolve(tenantId: string, providerId: string): Promise<ProviderCredential | undefined>;
  /** Replaces every credential of a tenant; an empty map forgets the tenant. */
  set(tenantId: string, credentials: Readonly<Record<string, ProviderCredential>>): Promise<void>;
  /** Forgets a tenant's credentials; returns whether there were any. */
  remove(tenantId: string): Promise<boolean>;
  close?(): Promise<void>;
}
