import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { audited, localActor, type AuditSubject } from '@openclaw-mt/core/audit';
import { loadConfig, MultiTenantError, type LoadedConfig } from '@openclaw-mt/core';
import { migrateTenants, type MigrationReport } from '@openclaw-mt/core/transfer';
import { defineCommand } from 'citty';
import { jsonArg } from '../args/common-args.js';
import { createFileCheckpoint } from '../context/file-checkpoint.js';
import type { OpenedStores } from '../context/open-stores.js';
import { openToolStores } from '../context/tool-stores.js';
import { ExitCodes } from '../output/exit-codes.js';
import { runAction } from '../output/output.js';
import { createProgress } from '../output/progress.js';

/**
 * The stores that hold the data: with a Cloud Backend configured, tokens and configs belong to the
 * backend, so a migration moves what the local stores keep (workspaces and the last-known-good configs).
 */
function openLocal(loaded: LoadedConfig): Promise<OpenedStores> {
  const { cloudBackendUrl: _backend, ...config } = loaded.config;
  return openToolStores(config);
}

function exitCodeOf(report: MigrationReport): number {
  if (report.ok) return ExitCodes.ok;
  return report.failed.length > 0 && report.failed.every((failure) => failure.retryable) ? ExitCodes.unavailable : ExitCodes.failure;
}

/** `openclaw-mt migrate` */
export const migrateCommand = defineCommand({
  meta: {
    name: 'migrate',
    description:
      'Move every tenant (workspace files, config, token records) from the stores of one config to those of another — resumable and verified',
  },
  args: {
    from: { type: 'string', description: 'Config file naming the source stores', valueHint: 'config file', required: true },
    to: { type: 'string', description: 'Config file naming the target stores', valueHint: 'config file', required: true },
    checkpoint: {
      type: 'string',
      description: "Progress file for resuming (default: in the target's dataDir, one per source/target pair)",
      valueHint: 'file',
    },
    concurrency: { type: 'string', description: 'Tenants moved at once (default 8)', default: '8' },
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      if (!/^\d{1,3}$/.test(args.concurrency) || Number(args.concurrency) < 1)
        throw new MultiTenantError('BAD_REQUEST', '--concurrency: expected a number from 1 to 999.');
      const [fromLoaded, toLoaded] = await Promise.all([loadConfig({ path: args.from }), loadConfig({ path: args.to })]);
      const from = await openLocal(fromLoaded);
      let to: OpenedStores;
      try {
        to = await openLocal(toLoaded);
      } catch (error) {
        await from.close();
        throw error;
      }
      const progress = createProgress({ json: args.json });
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      try {
        if (from.description === to.description)
          throw new MultiTenantError('BAD_REQUEST', `The source and the target are the same stores (${from.description}).`);
        const migration = `${resolve(args.from)} (${from.description}) -> ${resolve(args.to)} (${to.description})`;
        const checkpointPath = resolve(
          args.checkpoint ??
            join(toLoaded.config.dataDir, `migration-${createHash('sha256').update(migration).digest('hex').slice(0, 12)}.checkpoint.json`),
        );
        await mkdir(dirname(checkpointPath), { recursive: true, mode: 0o700 });
        const checkpoint = createFileCheckpoint(checkpointPath, migration);
        output.log.info(`Migrating ${from.description} → ${to.description} (checkpoint ${checkpointPath})`);

        let report: MigrationReport | undefined;
        // audited() reads the subject when it writes the entry, so the counts added below are recorded.
        const subject: AuditSubject = {
          actor: localActor('cli'),
          action: 'tenants.migrate',
          target: to.description,
          details: { from: from.description },
        };
        try {
          await audited(to.audit, subject, async () => {
            report = await migrateTenants({
              from,
              to,
              checkpoint,
              concurrency: Number(args.concurrency),
              signal: controller.signal,
              onProgress: (event) => progress.update(`migrating ${event.done}/${event.total}  ${event.failed} failed  ${event.tenantId}`),
            });
            subject.details = {
              from: from.description,
              total: report.total,
              moved: report.moved,
              verified: report.verified,
              failed: report.failed.length,
              stopped: report.stopped,
            };
            if (!report.ok)
              throw new MultiTenantError(
                report.failed[0]?.code ?? 'CLOSED',
                `${report.failed.length} of ${report.total} tenants failed${report.stopped ? '; the run stopped early' : ''}.`,
              );
          });
        } catch (error) {
          if (report === undefined) throw error;
        } finally {
          progress.done();
        }
        const result = report!;
        output.result({ ...result, checkpoint: checkpointPath, from: from.description, to: to.description }, () => {
          const lines = [
            `${result.ok ? 'Migrated' : 'Migration incomplete:'} ${result.total} tenants: ${result.moved} moved, ${result.verified} already there (verified), ${result.skipped} skipped, ${result.failed.length} failed.`,
            ...result.failed.slice(0, 20).map((failure) => `  FAIL ${failure.tenantId}: ${failure.code}: ${failure.message}`),
            ...(result.failed.length > 20 ? [`  … and ${result.failed.length - 20} more (see --json)`] : []),
          ];
          if (!result.ok) lines.push(`Run the same command again to resume (checkpoint ${checkpointPath}).`);
          return lines.join('\n');
        });
        return exitCodeOf(result);
      } finally {
        process.off('SIGINT', stop);
        await Promise.allSettled([from.close(), to.close()]);
      }
    }),
});
