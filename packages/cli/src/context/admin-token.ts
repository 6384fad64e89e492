import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MultiTenantError, type OperatorConfig } from '@openclaw-mt/core';
import { ADMIN_TOKEN_ENV, type AdminSettings } from '@openclaw-mt/gateway/config';

/** Where `serve` keeps a generated admin token when the config names none. */
export function adminTokenPath(config: OperatorConfig): string {
  return join(config.dataDir, 'admin-token');
}

/**
 * The admin token `serve` uses: the configured one, else one generated once and kept in
 * `<dataDir>/admin-token` (0600), so CLI commands on the same host can find it.
 */
export async function ensureAdminToken(settings: AdminSettings, config: OperatorConfig): Promise<string> {
  if (settings.token !== undefined) return settings.token;
  const path = adminTokenPath(config);
  const existing = await readFile(path, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if (existing !== undefined && existing.length >= 16) return existing;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  const file = await open(path, 'w', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(`${token}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  return token;
}

/** The admin token CLI commands send: configured, or the one a local `serve` generated. */
export async function readAdminToken(settings: AdminSettings, config: OperatorConfig): Promise<string> {
  if (settings.token !== undefined) return settings.token;
  const text = await readFile(adminTokenPath(config), 'utf8').catch(() => undefined);
  if (text === undefined || text.trim().length < 16) {
    throw new MultiTenantError(
      'BACKEND_UNAVAILABLE',
      `No admin token: start the gateway with \`openclaw-mt serve\` on this host, or set ${ADMIN_TOKEN_ENV} (or multiTenant.admin.token).`,
    );
  }
  return text.trim();
}

function adminUrlPath(config: OperatorConfig): string {
  return join(config.dataDir, 'admin-url');
}

/** Records where this host's gateway serves its admin endpoint (0600), for CLI commands to find it. */
export async function advertiseAdminUrl(config: OperatorConfig, url: string): Promise<() => Promise<void>> {
  const path = adminUrlPath(config);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const file = await open(path, 'w', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(`${url}\n`);
  } finally {
    await file.close();
  }
  return () => rm(path, { force: true });
}

/** The admin URL a gateway on this host advertised, if any. */
export function readAdvertisedAdminUrl(config: OperatorConfig): string | undefined {
  try {
    const text = readFileSync(adminUrlPath(config), 'utf8').trim();
    const url = new URL(text);
    return url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
