import { checkCloudBackend, ConfigEnv, MultiTenantError, type CheckPoint } from '@openclaw-mt/core';
import { defineCommand } from 'citty';
import { jsonArg } from '../args/common-args.js';
import { ExitCodes } from '../output/exit-codes.js';
import { runAction } from '../output/output.js';

const MARK: Record<CheckPoint['status'], string> = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP' };

const check = defineCommand({
  meta: { name: 'check', description: "Run the Cloud Backend wire contract (v1) against a backend and report every point that fails" },
  args: {
    url: { type: 'positional', description: 'Base URL of the backend', required: true },
    'service-token': { type: 'string', description: `The gateway's service token (or set ${ConfigEnv.serviceToken})` },
    token: { type: 'string', description: "An active test user's gateway token (enables the verify points)" },
    'suspended-token': { type: 'string', description: "A suspended test user's gateway token (enables the suspension point)" },
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const serviceToken = args['service-token'] ?? process.env[ConfigEnv.serviceToken];
      if (serviceToken === undefined || serviceToken === '') {
        throw new MultiTenantError('BAD_REQUEST', `Pass --service-token or set ${ConfigEnv.serviceToken}.`);
      }
      const report = await checkCloudBackend({
        url: args.url,
        serviceToken,
        ...(args.token ? { token: args.token } : {}),
        ...(args['suspended-token'] ? { suspendedToken: args['suspended-token'] } : {}),
      });
      output.result(report, () =>
        [
          `Cloud Backend contract v${report.contractVersion} at ${report.url}`,
          ...report.points.map((point) => `  ${MARK[point.status]}  ${point.id.padEnd(30)} ${point.reason}`),
          '',
          `${report.summary.passed} passed, ${report.summary.failed} failed, ${report.summary.skipped} skipped: ${report.ok ? 'the backend meets the contract' : 'the backend does NOT meet the contract'}`,
        ].join('\n'),
      );
      return report.ok ? ExitCodes.ok : ExitCodes.checkFailed;
    }),
});

/** `openclaw-mt backend …` */
export const backendCommand = defineCommand({
  meta: { name: 'backend', description: 'Cloud Backend tools' },
  subCommands: { check },
});
