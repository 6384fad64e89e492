import { assertTokenFormats, type TokenFormatName } from '@openclaw-mt/core/tokens';
import { checkCloudBackend, CLOUD_DIALECTS, type CheckPoint, type CloudDialectName } from '@openclaw-mt/core/cloud';
import { ConfigEnv, effectiveTokenFormats, loadConfig, MultiTenantError } from '@openclaw-mt/core';
import { defineCommand } from 'citty';
import { jsonArg } from '../args/common-args.js';
import { ExitCodes } from '../output/exit-codes.js';
import { runAction } from '../output/output.js';

const MARK: Record<CheckPoint['status'], string> = { pass: 'PASS', fail: 'FAIL', skipped: 'SKIP', unsupported: 'N/A ' };

const check = defineCommand({
  meta: {
    name: 'check',
    description: "Run the Cloud Backend wire contract (v1.1, or the fork's dialect) against a backend and report every point",
  },
  args: {
    url: { type: 'positional', description: 'Base URL of the backend', required: true },
    'service-token': { type: 'string', description: `The gateway's service token (or set ${ConfigEnv.serviceToken})` },
    token: { type: 'string', description: "An active test user's gateway token (enables the verify points)" },
    'suspended-token': { type: 'string', description: "A suspended test user's gateway token (enables the suspension point)" },
    dialect: { type: 'string', description: "v1 (default) or fba (the original fork's backend); default from --config" },
    'path-prefix': { type: 'string', description: "Prefix of the backend's routes (default: the dialect's; fba: /api/v1)" },
    'token-format': {
      type: 'string',
      description: "Token formats the gateway accepts, comma-separated: gt, gw (default from --config, else the dialect's)",
    },
    config: { type: 'string', description: 'Take the dialect, prefix and token formats from this operator config' },
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const serviceToken = args['service-token'] ?? process.env[ConfigEnv.serviceToken];
      if (serviceToken === undefined || serviceToken === '') {
        throw new MultiTenantError('BAD_REQUEST', `Pass --service-token or set ${ConfigEnv.serviceToken}.`);
      }
      const fromConfig = args.config === undefined ? undefined : (await loadConfig({ path: args.config })).config;
      const dialect = args.dialect ?? fromConfig?.cloud.dialect;
      if (dialect !== undefined && !CLOUD_DIALECTS.includes(dialect as CloudDialectName)) {
        throw new MultiTenantError('BAD_REQUEST', `--dialect: expected ${CLOUD_DIALECTS.join(' or ')}.`);
      }
      const pathPrefix = args['path-prefix'] ?? fromConfig?.cloud.pathPrefix;
      const tokenFormats: readonly TokenFormatName[] | undefined =
        args['token-format'] !== undefined
          ? assertTokenFormats(args['token-format'].split(',').map((name) => name.trim()))
          : fromConfig === undefined
            ? undefined
            : effectiveTokenFormats(fromConfig);
      const report = await checkCloudBackend({
        url: args.url,
        serviceToken,
        ...(dialect === undefined ? {} : { dialect: dialect as CloudDialectName }),
        ...(pathPrefix === undefined ? {} : { pathPrefix }),
        ...(tokenFormats === undefined ? {} : { tokenFormats }),
        ...(args.token ? { token: args.token } : {}),
        ...(args['suspended-token'] ? { suspendedToken: args['suspended-token'] } : {}),
      });
      const { passed, failed, skipped, unsupported } = report.summary;
      const verdict = report.ok
        ? unsupported > 0
          ? `the backend works in the ${report.dialect} dialect, with ${unsupported} things it cannot do (N/A)`
          : 'the backend meets the contract'
        : 'the backend does NOT meet the contract';
      output.result(report, () =>
        [
          `Cloud Backend contract v${report.contractVersion} (${report.dialect} dialect) at ${report.url}`,
          ...report.points.map((point) => `  ${MARK[point.status]}  ${point.id.padEnd(30)} ${point.reason}`),
          ...(report.hints.length > 0 ? ['', ...report.hints.map((hint) => `hint: ${hint}`)] : []),
          '',
          `${passed} passed, ${failed} failed, ${skipped} skipped${unsupported > 0 ? `, ${unsupported} not supported by this backend` : ''}: ${verdict}`,
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
