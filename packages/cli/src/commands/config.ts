import { readFile } from 'node:fs/promises';
import { assertTenantConfig, assertTenantId } from '@openclaw-mt/core/contracts';
import { audited, localActor } from '@openclaw-mt/core/audit';
import { MultiTenantError, type TenantConfig } from '@openclaw-mt/core';
import { redact } from '@openclaw-mt/core/tokens';
import { defineCommand } from 'citty';
import { adminUrlArg } from '../args/admin-args.js';
import { configArg, jsonArg } from '../args/common-args.js';
import { adminClientFor, type SyncAnswer } from '../context/admin-client.js';
import { configSecrets } from '../context/config-secrets.js';
import { loadOperatorConfig } from '../context/operator-context.js';
import { withStores } from '../context/with-stores.js';
import { ExitCodes } from '../output/exit-codes.js';
import { runAction } from '../output/output.js';
import { createProgress } from '../output/progress.js';

/** The config argument: inline JSON, or `@file`. */
async function readConfigArgument(text: string): Promise<TenantConfig> {
  let source = text;
  if (text.startsWith('@')) {
    const path = text.slice(1);
    try {
      source = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new MultiTenantError(code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_REQUEST', `Cannot read ${path} (${code ?? 'error'}).`, {
        cause: error,
      });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new MultiTenantError('CONFIG_INVALID', `The config is not valid JSON: ${(error as Error).message}.`, { cause: error });
  }
  return assertTenantConfig(value);
}

function parseIfVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text))
    throw new MultiTenantError('BAD_REQUEST', '--if-version: expected a non-negative integer (0 for "no entry yet").');
  return Number(text);
}

const get = defineCommand({
  meta: { name: 'get', description: "A tenant's stored config entry (status, config, version)" },
  args: { user: { type: 'positional', description: 'Tenant (user) id', required: true }, ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const tenantId = assertTenantId(args.user);
      const entry = await withStores(args.config, (stores) => stores.configs.get(tenantId));
      if (entry === undefined)
        throw new MultiTenantError('TENANT_UNKNOWN', `No config entry for ${tenantId} (it runs on the operator defaults).`);
      output.result(entry, () =>
        [
          `${tenantId}: ${entry.status}, version ${entry.version}, updated ${new Date(entry.updatedAt).toISOString()}`,
          JSON.stringify(entry.config, null, 2),
        ].join('\n'),
      );
    }),
});

const set = defineCommand({
  meta: { name: 'set', description: "Replace a tenant's config (a running gateway applies it through the store's change feed)" },
  args: {
    user: { type: 'positional', description: 'Tenant (user) id', required: true },
    value: { type: 'positional', description: 'The config as JSON, or @file', required: true },
    'if-version': { type: 'string', description: 'Only if the stored version is this one (0: no entry yet); CONFLICT otherwise' },
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const tenantId = assertTenantId(args.user);
      const ifVersion = parseIfVersion(args['if-version']);
      const config = await readConfigArgument(args.value);
      const entry = await withStores(args.config, async (stores) => {
        const write = stores.configs.set;
        if (write === undefined || !stores.configs.capabilities.write) {
          throw new MultiTenantError(
            'NOT_SUPPORTED',
            `Config source "${stores.configs.name}" is read-only: change configs where they come from (the Cloud Backend).`,
          );
        }
        return audited(
          stores.audit,
          { actor: localActor('cli'), action: 'config.set', tenantId, ...(ifVersion === undefined ? {} : { details: { ifVersion } }) },
          () => write.call(stores.configs, tenantId, { config }, ifVersion === undefined ? {} : { ifVersion }),
          (error) => output.log.warn(`Could not write the audit entry: ${(error as Error).message}`),
        );
      });
      output.result(entry, () => `Stored the config of ${tenantId} as version ${entry.version}.`);
    }),
});

const sync = defineCommand({
  meta: { name: 'sync', description: 'Make the running gateway sync configs from the Cloud Backend now' },
  args: { ...adminUrlArg, ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const { config } = await loadOperatorConfig(args.config);
      const admin = await adminClientFor(config, args['admin-url']);
      const progress = createProgress({ json: args.json });
      progress.spin(`Syncing configs through ${admin.url}`);
      let answer: SyncAnswer;
      try {
        // A backend may echo the service token in an error; the gateway relays it: never print it.
        answer = redact(await admin.sync(), configSecrets(config)) as SyncAnswer;
      } finally {
        progress.done();
      }
      if (!answer.ok) {
        const reason = answer.error ? `${answer.error.code}: ${answer.error.message}` : 'the gateway gave no reason';
        if (args.json) {
          process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
          process.stderr.write(`${JSON.stringify({ error: answer.error ?? { code: 'BACKEND_UNAVAILABLE', message: reason } })}\n`);
        } else {
          process.stderr.write(`error: config sync failed: ${reason}\n`);
        }
        return ExitCodes.unavailable;
      }
      output.result(answer, () =>
        answer.notModified
          ? 'Configs are up to date (not modified).'
          : `Synced: ${answer.applied} applied, ${answer.rejected} rejected, ${answer.pages} page${answer.pages === 1 ? '' : 's'}.`,
      );
    }),
});

/** `openclaw-mt config …` */
export const configCommand = defineCommand({
  meta: { name: 'config', description: 'Tenant configs: read and write them in the stores, sync them from the Cloud Backend' },
  subCommands: { get, set, sync },
});
