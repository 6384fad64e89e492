import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isMultiTenantError, loadConfig, managerSettingsFromConfig, parseConfig } from '@openclaw-mt/core';
import { mergeTenantConfig } from '@openclaw-mt/core/contracts';

async function configFile(content: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ocmt-config-'));
  const path = join(dir, 'config.json');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function problem(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (isMultiTenantError(error, 'CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('operator configuration', () => {
  test('the seed’s file is accepted as it is', async () => {
    const path = await configFile({
      gateway: { port: 18789 },
      multiTenant: { enabled: true, cloudBackendUrl: 'https://api.example.com', serviceToken: 'service-token-0123456789' },
    });
    const { config } = await loadConfig({ path, env: {} });
    expect(config).toMatchObject({ enabled: true, cloudBackendUrl: 'https://api.example.com', maxCachedUsers: 100, adapter: 'fs' });
  });

  test('the reference implementation’s keys are honoured and relative paths resolve against the file', async () => {
    const path = await configFile({
      multiTenant: {
        maxCachedUsers: 7,
        userIdleTimeoutMs: 1000,
        syncIntervalMs: 5000,
        workspaceRoot: 'ws',
        configRoot: '/abs/cfg',
        templatePath: 'tpl',
      },
    });
    const { config } = await loadConfig({ path, env: {} });
    const dir = path.slice(0, -'/config.json'.length);
    expect(config).toMatchObject({
      maxCachedUsers: 7,
      userIdleTimeoutMs: 1000,
      syncIntervalMs: 5000,
      workspaceRoot: `${dir}/ws`,
      configRoot: '/abs/cfg',
      templatePath: `${dir}/tpl`,
    });
    expect(config.tokenRoot).toBe(`${dir}/.openclaw-mt/tokens`);
  });

  test('errors name the key and the expected shape, for every bad key at once', () => {
    const message = problem(() =>
      parseConfig({ multiTenant: { maxCachedUsers: 'lots', userIdleTimeoutMs: -1, adapter: 'mongo', typoKey: 1 } }, {}),
    );
    expect(message).toContain('multiTenant.maxCachedUsers');
    expect(message).toContain('multiTenant.userIdleTimeoutMs');
    expect(message).toContain('multiTenant.adapter');
    expect(message).toContain('typoKey');
  });

  test('every issue is listed with its path, each unknown key by name, and the sections owned elsewhere too', () => {
    let error: unknown;
    try {
      parseConfig(
        { multiTenant: { maxCachedUsers: 0, typoOne: 1, typoTwo: 2, gateway: { port: 'x' }, admin: {} } },
        {},
        { gateway: () => [{ key: 'multiTenant.gateway.port', message: 'expected a number' }], admin: () => [] },
      );
    } catch (caught) {
      error = caught;
    }
    expect(isMultiTenantError(error, 'CONFIG_INVALID')).toBe(true);
    const keys = ((error as { details: { issues: Array<{ key: string }> } }).details.issues ?? []).map((issue) => issue.key);
    expect(keys.sort()).toEqual(['multiTenant.gateway.port', 'multiTenant.maxCachedUsers', 'multiTenant.typoOne', 'multiTenant.typoTwo']);
  });

  test('a Cloud Backend without a service token is refused', () => {
    expect(problem(() => parseConfig({ multiTenant: { cloudBackendUrl: 'https://api.example.com' } }, {}))).toContain('serviceToken');
    expect(problem(() => parseConfig({ multiTenant: { cloudBackendUrl: 'ftp://x' } }, {}))).toContain('cloudBackendUrl');
  });

  test('secrets come from the environment and override the file', () => {
    const config = parseConfig(
      { multiTenant: { cloudBackendUrl: 'https://api.example.com', serviceToken: 'file-token-0123456789' } },
      {
        OPENCLAW_SERVICE_TOKEN: 'env-token-0123456789',
        OPENCLAW_MT_PEPPERS: 'pepper-one-0123456789, pepper-two-0123456789',
        OPENCLAW_MT_REDIS_URL: 'redis://10.0.0.1:6379',
      },
    );
    expect(config.serviceToken).toBe('env-token-0123456789');
    expect(config.peppers).toEqual(['pepper-one-0123456789', 'pepper-two-0123456789']);
    expect(config.redis?.url).toBe('redis://10.0.0.1:6379');
  });

  test('the file path comes from OPENCLAW_MT_CONFIG; an explicit missing file is an error', async () => {
    const path = await configFile({ multiTenant: { maxCachedUsers: 3 } });
    expect((await loadConfig({ env: { OPENCLAW_MT_CONFIG: path } })).config.maxCachedUsers).toBe(3);
    await expect(loadConfig({ path: `${path}.missing`, env: {} })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  test('without any file the embedded defaults apply under ./.openclaw-mt', async () => {
    const loaded = await loadConfig({ env: {}, cwd: '/srv/app', defaultPath: '/nonexistent/openclaw/config.json' });
    expect(loaded.path).toBeUndefined();
    expect(loaded.config.workspaceRoot).toBe('/srv/app/.openclaw-mt/workspaces');
    expect(loaded.config.adapter).toBe('fs');
  });

  test('malformed JSON is reported, not crashed on', async () => {
    const path = await configFile('{ "multiTenant": ');
    await expect(loadConfig({ path, env: {} })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('not valid JSON'),
    });
  });

  test('enabled: false selects single-user mode', () => {
    expect(managerSettingsFromConfig(parseConfig({ multiTenant: { enabled: false } }, {})).singleTenant).toBe('default');
    expect(managerSettingsFromConfig(parseConfig({ multiTenant: {} }, {})).singleTenant).toBeUndefined();
  });

  test('operator defaults must be a valid tenant config', () => {
    expect(problem(() => parseConfig(JSON.parse('{"multiTenant":{"defaults":{"x":{"__proto__":{"polluted":1}}}}}'), {}))).toContain(
      'defaults',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(problem(() => parseConfig({ multiTenant: { defaults: [] } }, {}))).toContain('multiTenant.defaults');
  });
});

describe('tenant config merge', () => {
  test('objects merge key by key, arrays and scalars replace, inputs stay untouched', () => {
    const defaults = { model: 'a', tools: ['x', 'y'], limits: { rpm: 60, bytes: 10 } };
    const override = { tools: ['z'], limits: { rpm: 5 } };
    const merged = mergeTenantConfig(defaults, override);
    expect(merged).toEqual({ model: 'a', tools: ['z'], limits: { rpm: 5, bytes: 10 } });
    expect(defaults.limits.rpm).toBe(60);
    expect(merged.limits).not.toBe(defaults.limits);
  });
});
