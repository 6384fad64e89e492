import { describe, expect, it } from 'vitest';
import { isMultiTenantError } from '@openclaw-mt/core';
import {
  capacityForMemoryBudget,
  checkConfigWrite,
  createMethodPolicy,
  DEFAULT_LOCKED_CONFIG_PATHS,
  OPENCLAW_DENIED_METHODS,
  openClawRuntimeOptionsFromSettings,
  parseJson5,
  parseOpenClawRuntimeSettings,
} from '@openclaw-mt/gateway';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isMultiTenantError(error) ? `${error.code}:${String(error.details.reason)}` : (error as Error).name;
  }
  return undefined;
}

describe('parseJson5', () => {
  it('reads what OpenClaw config files may contain', () => {
    const good = parseJson5(`// a comment
    {
      unquoted: 'single', "double": "q\\u0075ote", /* block */
      hex: 0xFF, plus: +1, lead: .5, trail: 5., exp: 1e3,
      escaped\\u004Bey: true, $dollar: null, nested: { list: [1, 'two', { three: 3 },], },
      multi: 'line \\
continued',
    }`);
    expect(good).toEqual({
      unquoted: 'single',
      double: 'quote',
      hex: 255,
      plus: 1,
      lead: 0.5,
      trail: 5,
      exp: 1000,
      escapedKey: true,
      $dollar: null,
      nested: { list: [1, 'two', { three: 3 }] },
      multi: 'line continued',
    });
    expect(parseJson5('"just a string"')).toBe('just a string');
    expect(parseJson5('[]')).toEqual([]);
  });

  it('refuses what it cannot read unambiguously', () => {
    for (const text of ['{ a: 1, a: 2 }', '{ __proto__: { gateway: {} } }', '{ "constructor": 1 }', '{ a: 01 }', '{ a: 1 } x', '{ a: "unterminated }', '{ a: [1, 2 }', '{ "a\\1": 1 }', '{ a: 1 /* open']) {
      expect(() => parseJson5(text), text).toThrow();
    }
  });
});

describe('checkConfigWrite', () => {
  const enforced = { gateway: { mode: 'local' }, logging: { file: '/t/agent/logs/openclaw.log' } };
  const check = (method: string, params: unknown) => codeOf(() => checkConfigWrite(method, params, DEFAULT_LOCKED_CONFIG_PATHS, enforced));

  it('refuses any config.patch touching a locked path, however the key is spelled', () => {
    for (const raw of [
      '{ gateway: { port: 1 } }',
      '{ gateway: null }',
      '{ "gateway": { "auth": { "mode": "none" } } }',
      "{ 'gate\\u0077ay': {} }",
      '{ gateway: { mode: "local" } }',
      '{ logging: { file: "/etc/cron.d/x" } }',
      '{ logging: null }',
      '{ logging: "x" }',
    ]) {
      expect(check('config.patch', { raw }), raw).toBe('BAD_REQUEST:config-locked');
    }
    expect(check('config.patch', { raw: '{ agents: {} }', replacePaths: ['gateway.auth'] })).toBe('BAD_REQUEST:config-locked');
    expect(check('config.patch', { raw: '{ agents: {} }', replacePaths: ['*'] })).toBe('BAD_REQUEST:config-locked');
    expect(check('config.patch', { raw: '{ agents: { $include: "./x.json5" } }' })).toBe('BAD_REQUEST:config-locked');
    expect(check('config.patch', { raw: '{ oops' })).toBe('BAD_REQUEST:config-unreadable');
  });

  it('lets other patches through', () => {
    expect(check('config.patch', { raw: '{ logging: { level: "debug" }, models: { providers: {} } }' })).toBeUndefined();
    expect(check('config.patch', { raw: '{ agents: {} }', replacePaths: ['agents.entries.*.skills'] })).toBeUndefined();
    expect(check('config.get', {})).toBeUndefined();
    expect(check('chat.send', { raw: '{ gateway: {} }' })).toBeUndefined();
    // Without text OpenClaw's own schema refuses the call.
    expect(check('config.patch', {})).toBeUndefined();
  });

  it('lets a full replacement repeat or omit locked keys, never change them', () => {
    expect(check('config.set', { raw: JSON.stringify({ ...enforced, ui: {} }) })).toBeUndefined();
    expect(check('config.apply', { raw: '{ ui: {} }' })).toBeUndefined();
    expect(check('config.set', { raw: JSON.stringify({ gateway: { mode: 'local', bind: 'lan' } }) })).toBe('BAD_REQUEST:config-locked');
    expect(check('config.apply', { raw: JSON.stringify({ logging: { file: '/elsewhere' } }) })).toBe('BAD_REQUEST:config-locked');
    expect(check('config.set', { raw: '{ logging: 1 }' })).toBe('BAD_REQUEST:config-locked');
  });
});

describe('method policy', () => {
  it('denies self-update, plugin installs, exec approvals, the wizard and suspension by default', () => {
    const allowed = createMethodPolicy({}, OPENCLAW_DENIED_METHODS);
    for (const method of ['update.run', 'update.status', 'plugins.install', 'plugins.uninstall', 'plugins.setEnabled', 'exec.approvals.set', 'wizard.start', 'gateway.suspend.prepare']) {
      expect(allowed(method), method).toBe(false);
    }
    for (const method of ['health', 'config.get', 'config.patch', 'sessions.list', 'chat.send', 'plugins.list', 'plugins.catalog.browse', 'exec.approval.resolve']) {
      expect(allowed(method), method).toBe(true);
    }
  });
});

describe('capacityForMemoryBudget', () => {
  it('counts whole cells of about 1 GiB', () => {
    expect(capacityForMemoryBudget(24 * 1024 ** 3)).toBe(24);
    expect(capacityForMemoryBudget(10 * 1024 ** 3, 1.5 * 1024 ** 3)).toBe(6);
    expect(capacityForMemoryBudget(1024 ** 3)).toBe(1);
  });

  it('refuses budgets that hold no cell', () => {
    expect(codeOf(() => capacityForMemoryBudget(512 * 1024 ** 2))).toMatch(/^CONFIG_INVALID/);
    expect(codeOf(() => capacityForMemoryBudget(Number.NaN))).toMatch(/^CONFIG_INVALID/);
    expect(codeOf(() => capacityForMemoryBudget(1024, 0))).toMatch(/^CONFIG_INVALID/);
  });
});

describe('openclaw runtime settings', () => {
  it('turns the config file block into runtime options and a capacity', () => {
    const settings = parseOpenClawRuntimeSettings({
      runtimeDir: '/opt/openclaw-mt/runtime',
      config: { agents: { defaults: { model: { primary: 'fake/fake-model' } } } },
      methods: { deny: ['cron.*'] },
      coldStartWaitMs: 20_000,
      spareConnections: false,
      memoryBudgetBytes: 8 * 1024 ** 3,
    });
    const { options, capacity } = openClawRuntimeOptionsFromSettings(settings);
    expect(options).toEqual({
      install: '/opt/openclaw-mt/runtime',
      config: { agents: { defaults: { model: { primary: 'fake/fake-model' } } } },
      methods: { deny: ['cron.*'] },
      coldStartWaitMs: 20_000,
      spareConnections: false,
    });
    expect(capacity).toBe(8);
    expect(openClawRuntimeOptionsFromSettings(parseOpenClawRuntimeSettings(undefined))).toEqual({ options: {}, capacity: undefined });
  });

  it('names the bad key', () => {
    expect(() => parseOpenClawRuntimeSettings({ coldStartWaitMs: -1 })).toThrow(/multiTenant\.gateway\.openclaw\.coldStartWaitMs/);
    expect(() => parseOpenClawRuntimeSettings({ osUser: true })).toThrow(/CONFIG_INVALID|Invalid configuration/);
  });
});
