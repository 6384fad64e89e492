import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMultiTenantError } from '@openclaw-mt/core';
import { createMethodPolicy } from '@openclaw-mt/gateway';
import {
  capacityForMemoryBudget,
  checkConfigWrite,
  DEFAULT_LOCKED_CONFIG_PATHS,
  Json5Error,
  OPENCLAW_DENIED_METHODS,
  openClawRuntimeOptionsFromSettings,
  parseJson5,
  parseOpenClawRuntimeSettings,
  REDACTED_SENTINEL,
} from '@openclaw-mt/runtime-openclaw';

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

  it('reads a key given twice as OpenClaw does: the last value wins', () => {
    expect(parseJson5('{ a: 1, a: 2 }')).toEqual({ a: 2 });
  });

  it('refuses what is not JSON5, prototype-reaching keys and deep nesting, with a Json5Error', () => {
    for (const text of [
      '{ __proto__: { gateway: {} } }',
      '{ "constructor": 1 }',
      '{ a: [{ prototype: 1 }] }',
      '{ a: 01 }',
      '{ a: 1 } x',
      '{ a: "unterminated }',
      '{ a: [1, 2 }',
      '{ "a\\1": 1 }',
      '{ a: 1 /* open',
      `${'['.repeat(200)}${']'.repeat(200)}`,
    ]) {
      expect(() => parseJson5(text), text).toThrow(Json5Error);
    }
    const error = (() => {
      try {
        parseJson5('{\n  a: 1 } x');
      } catch (caught) {
        return caught as Json5Error;
      }
    })();
    expect(error).toMatchObject({ line: 2, column: 10, message: "invalid character 'x' at 2:10" });
  });

  it('reads every JSON document as JSON does, and fails on any other text only with a Json5Error', () => {
    const forbidden = /"(__proto__|constructor|prototype)":/;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        fc.pre(!forbidden.test(text));
        expect(parseJson5(text)).toEqual(JSON.parse(text));
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseJson5(text);
        } catch (error) {
          expect(error).toBeInstanceOf(Json5Error);
        }
      }),
    );
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
    expect(check('config.patch', { raw: '{ logging: { level: "debug" }, logging: { file: "/etc/cron.d/x" } }' })).toBe(
      'BAD_REQUEST:config-locked',
    );
  });

  it('lets other patches through', () => {
    expect(check('config.patch', { raw: '{ logging: { level: "debug" }, models: { providers: {} } }' })).toBeUndefined();
    expect(check('config.patch', { raw: '{ agents: {} }', replacePaths: ['agents.entries.*.skills'] })).toBeUndefined();
    // A key given twice counts with its last value, as OpenClaw reads it.
    expect(check('config.patch', { raw: '{ logging: { file: "/etc/cron.d/x" }, logging: { level: "debug" } }' })).toBeUndefined();
    expect(check('config.get', {})).toBeUndefined();
    expect(check('chat.send', { raw: '{ gateway: {} }' })).toBeUndefined();
    // Without text OpenClaw's own schema refuses the call.
    expect(check('config.patch', {})).toBeUndefined();
  });

  describe('model providers', () => {
    const provider = {
      baseUrl: 'http://127.0.0.1:7000/v1',
      apiKey: 'operator-key',
      headers: { 'x-tenant': 'a' },
      api: 'openai-completions',
      models: [{ id: 'm', name: 'M' }],
    };
    const stored = { ...enforced, models: { providers: { op: provider } } };
    const checkStored = (method: string, raw: string) =>
      codeOf(() => checkConfigWrite(method, { raw }, DEFAULT_LOCKED_CONFIG_PATHS, stored));
    const keys = ['baseUrl', 'apiKey', 'auth', 'authHeader', 'headers', 'request', 'localService'];

    it('refuses every patch of where a provider sends requests or with which credentials, in any spelling', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...keys),
          fc.constantFrom('op', 'mine', 'openai'),
          fc.constantFrom<(key: string) => string>(
            (key) => key,
            (key) => `"${key}"`,
            (key) => `'${key}'`,
            (key) => `"${[...key].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`,
          ),
          fc.constantFrom('"http://127.0.0.1:9/v1"', 'null', '{}', '[]', '"x"'),
          (key, id, spell, value) => {
            const raw = `{ models: { providers: { ${id}: { ${spell(key)}: ${value} } } } }`;
            expect(checkStored('config.patch', raw), raw).toBe('BAD_REQUEST:config-locked');
          },
        ),
      );
      for (const raw of [
        '{ models: { providers: { op: null } } }',
        '{ models: { providers: null } }',
        '{ models: null }',
        '{ models: { providers: { op: { models: [{ id: "m", name: "M", baseUrl: "http://127.0.0.1:9" }] } } } }',
        '{ models: { providers: { op: { models: [{ id: "m", name: "M", headers: { a: "b" } }] } } } }',
      ]) {
        expect(checkStored('config.patch', raw), raw).toBe('BAD_REQUEST:config-locked');
      }
      expect(
        codeOf(() =>
          checkConfigWrite(
            'config.patch',
            { raw: '{ agents: {} }', replacePaths: ['models.providers.op'] },
            DEFAULT_LOCKED_CONFIG_PATHS,
            stored,
          ),
        ),
      ).toBe('BAD_REQUEST:config-locked');
    });

    it("lets a tenant tune a provider's other settings", () => {
      expect(
        checkStored('config.patch', '{ models: { providers: { op: { timeoutSeconds: 30, params: { temperature: 0 } } } } }'),
      ).toBeUndefined();
      expect(checkStored('config.patch', '{ models: { providers: { op: { models: [{ id: "m2", name: "M2" }] } } } }')).toBeUndefined();
    });

    it('lets a full replacement repeat providers unchanged (secrets as the redaction marker), never change or drop them', () => {
      const redacted = { ...provider, apiKey: REDACTED_SENTINEL, headers: { 'x-tenant': REDACTED_SENTINEL } };
      expect(checkStored('config.set', JSON.stringify(stored))).toBeUndefined();
      expect(checkStored('config.set', JSON.stringify({ ...stored, models: { providers: { op: redacted } } }))).toBeUndefined();
      for (const op of [
        { ...provider, baseUrl: 'http://127.0.0.1:9/v1' },
        { ...redacted, headers: { 'x-tenant': REDACTED_SENTINEL, 'x-more': 'b' } },
        { ...provider, apiKey: { source: 'env', id: 'OTHER_KEY' } },
        { ...provider, models: [{ id: 'm', name: 'M', baseUrl: 'http://127.0.0.1:9/v1' }] },
      ]) {
        expect(checkStored('config.apply', JSON.stringify({ models: { providers: { op } } }))).toBe('BAD_REQUEST:config-locked');
      }
      expect(checkStored('config.set', JSON.stringify({ models: { providers: {} } }))).toBe('BAD_REQUEST:config-locked');
      expect(checkStored('config.set', JSON.stringify({ models: { providers: { op: provider, mine: { ...provider } } } }))).toBe(
        'BAD_REQUEST:config-locked',
      );
    });
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
    for (const method of [
      'update.run',
      'update.status',
      'plugins.install',
      'plugins.uninstall',
      'plugins.setEnabled',
      'exec.approvals.set',
      'wizard.start',
      'gateway.suspend.prepare',
    ]) {
      expect(allowed(method), method).toBe(false);
    }
    for (const method of [
      'health',
      'config.get',
      'config.patch',
      'sessions.list',
      'chat.send',
      'plugins.list',
      'plugins.catalog.browse',
      'exec.approval.resolve',
    ]) {
      expect(allowed(method), method).toBe(true);
    }
  });
});

describe('capacityForMemoryBudget', () => {
  it('counts whole cells of 768 MiB unless told otherwise', () => {
    expect(capacityForMemoryBudget(24 * 1024 ** 3)).toBe(32);
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
  it('takes releaseIdleWorkersMs of 0 (leave the workers to OpenClaw) or more, and refuses anything else by name', () => {
    for (const releaseIdleWorkersMs of [0, 60_000]) {
      const { options } = openClawRuntimeOptionsFromSettings(parseOpenClawRuntimeSettings({ releaseIdleWorkersMs }));
      expect(options).toEqual({ releaseIdleWorkersMs });
    }
    for (const releaseIdleWorkersMs of [-1, 1.5, '300000']) {
      expect(() => parseOpenClawRuntimeSettings({ releaseIdleWorkersMs })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('releaseIdleWorkersMs') }),
      );
    }
  });

  it.each(['optimizeForSize', 'spawnBroker'])('takes %s as true or false, and refuses anything else by name', (key) => {
    for (const value of [true, false]) {
      const { options } = openClawRuntimeOptionsFromSettings(parseOpenClawRuntimeSettings({ [key]: value }));
      expect(options).toEqual({ [key]: value });
    }
    for (const value of ['false', 0, null]) {
      expect(() => parseOpenClawRuntimeSettings({ [key]: value })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(key) }),
      );
    }
  });

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
      // The runtime admits each new cell against the budget too.
      memoryBudgetBytes: 8 * 1024 ** 3,
    });
    expect(capacity).toBe(10);
    const defaults = openClawRuntimeOptionsFromSettings(parseOpenClawRuntimeSettings(undefined));
    expect(defaults).toEqual({ options: {}, capacity: undefined, compileCache: true });
    // The install's compile cache is kept unless the operator says not to (the host gives it a directory).
    expect(openClawRuntimeOptionsFromSettings(parseOpenClawRuntimeSettings({ compileCache: false }))).toMatchObject({
      options: {},
      compileCache: false,
    });
    expect(() => parseOpenClawRuntimeSettings({ compileCache: 'yes' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('compileCache') }),
    );
    // Unset: the Control UI is served where the installed runtime has it; `true` requires it, `false` turns it off.
    expect(defaults.controlUi).toBeUndefined();
    for (const controlUi of [true, false]) {
      expect(openClawRuntimeOptionsFromSettings(parseOpenClawRuntimeSettings({ controlUi })).controlUi).toBe(controlUi);
    }
  });

  it('names the bad key', () => {
    expect(() => parseOpenClawRuntimeSettings({ coldStartWaitMs: -1 })).toThrow(/multiTenant\.gateway\.openclaw\.coldStartWaitMs/);
    expect(() => parseOpenClawRuntimeSettings({ osUser: true })).toThrow(/CONFIG_INVALID|Invalid configuration/);
  });
});
