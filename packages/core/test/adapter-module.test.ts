import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadAdapterModule, parseConfig, type MultiTenantError } from '@openclaw-mt/core';
import { resolveConfigPaths } from '../src/config/load-config.js';

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: MultiTenantError) => ({ code: error.code, key: error.details.key, message: error.message }),
  );

describe('adapters named by module', () => {
  test('the config takes a built-in word or { module, options }, and refuses anything else naming the key', () => {
    expect(parseConfig({}).adapter).toBe('fs');
    expect(parseConfig({ multiTenant: { adapter: 'redis' } }).adapter).toBe('redis');
    expect(parseConfig({ multiTenant: { adapter: { module: './a.js' } } }).adapter).toEqual({ module: './a.js', options: {} });
    for (const bad of ['postgres', { module: '' }, { module: './a.js', extra: 1 }, { options: {} }, 42]) {
      expect(() => parseConfig({ multiTenant: { adapter: bad } })).toThrow(/adapter/);
    }
  });

  test('a relative module path resolves against the config file directory and stays under it; packages stay names', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 4 }), (segments) => {
        const base = '/etc/openclaw';
        const config = resolveConfigPaths(parseConfig({ multiTenant: { adapter: { module: `./${segments.join('/')}.js` } } }), base);
        const module = (config.adapter as { module: string }).module;
        expect(isAbsolute(module)).toBe(true);
        expect(relative(base, module).startsWith('..')).toBe(false);
      }),
    );
    const named = resolveConfigPaths(parseConfig({ multiTenant: { adapter: { module: '@acme/openclaw-adapter' } } }), '/etc/openclaw');
    expect(named.adapter).toEqual({ module: '@acme/openclaw-adapter', options: {} });
    expect(named.configDir).toBe('/etc/openclaw');
  });

  test('loads a default-exported factory; a missing module, a missing package or a wrong export is CONFIG_INVALID', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-adapter-module-'));
    await writeFile(join(dir, 'good.mjs'), "export default { name: 'good', async open() { return {}; } };\n");
    await writeFile(join(dir, 'named.mjs'), "export const adapter = { name: 'named', async open() { return {}; } };\n");
    await writeFile(join(dir, 'broken.mjs'), 'export default {;\n');
    expect((await loadAdapterModule('./good.mjs', dir)).name).toBe('good');
    expect(await codeOf(loadAdapterModule('./named.mjs', dir))).toMatchObject({ code: 'CONFIG_INVALID', key: 'adapter.module' });
    expect(await codeOf(loadAdapterModule('./broken.mjs', dir))).toMatchObject({ code: 'CONFIG_INVALID', key: 'adapter.module' });
    expect(await codeOf(loadAdapterModule('./missing.mjs', dir))).toMatchObject({ code: 'CONFIG_INVALID', key: 'adapter.module' });
    expect(await codeOf(loadAdapterModule('@acme/not-installed-adapter', dir))).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('cannot find the package'),
    });
  });
});
