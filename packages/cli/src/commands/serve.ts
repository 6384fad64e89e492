import { defineCommand } from 'citty';
import { configArg } from '../args/common-args.js';
import { buildGateway } from '../context/build-gateway.js';
import { loadOperatorConfig } from '../context/operator-context.js';
import { ExitCodes } from '../output/exit-codes.js';
import { runAction } from '../output/output.js';

/** `openclaw-mt serve` */
export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Run the multi-tenant gateway (WebSocket, OpenClaw protocol)' },
  args: {
    bind: { type: 'string', description: 'Address to listen on (default 127.0.0.1; 0.0.0.0 serves the network)' },
    port: { type: 'string', description: 'Port (default 18789)' },
    'admin-port': { type: 'string', description: 'Port of the admin endpoint on loopback (default 18790)' },
    runtime: {
      type: 'string',
      description:
        'Tenant runtime: workspace (built in) or openclaw (one OpenClaw gateway per active tenant; run `openclaw-mt runtime install` first)',
    },
    ...configArg,
  },
  run: ({ args }) =>
    runAction(false, async () => {
      const loaded = await loadOperatorConfig(args.config);
      const port = args.port === undefined ? undefined : Number(args.port);
      const adminPort = args['admin-port'] === undefined ? undefined : Number(args['admin-port']);
      for (const [flag, value] of [
        ['--port', port],
        ['--admin-port', adminPort],
      ] as const) {
        if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 65_535)) {
          process.stderr.write(`error: ${flag} must be an integer between 0 and 65535\n`);
          return ExitCodes.invalid;
        }
      }
      if (args.runtime !== undefined && args.runtime !== 'workspace' && args.runtime !== 'openclaw') {
        process.stderr.write('error: --runtime must be workspace or openclaw\n');
        return ExitCodes.invalid;
      }
      const built = await buildGateway(loaded, {
        ...(args.bind ? { bind: args.bind } : {}),
        ...(port === undefined ? {} : { port }),
        ...(adminPort === undefined ? {} : { adminPort }),
        ...(args.runtime ? { runtime: args.runtime as 'workspace' | 'openclaw' } : {}),
      });
      // Signals are handled from before the first byte is served, so a stop never finds us deaf to it.
      let stopping: Promise<void> | undefined;
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stdout.write(`\n${signal}: shutting down gracefully…\n`);
          stopping ??= built.stop('gateway shutting down').finally(resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      const { url, adminUrl, fleetUrl } = await built.listen();
      const lines = [
        `openclaw-mt gateway listening on ${url}`,
        `  admin:   ${adminUrl ?? 'disabled'}`,
        ...(fleetUrl === undefined ? [] : [`  fleet:   ${fleetUrl} (internal; other nodes only)`]),
        `  config:  ${loaded.path ?? 'none found, using the embedded defaults'}`,
        `  stores:  ${built.stores.description}`,
        `  runtime: ${built.runtimeName}`,
      ];
      if (built.servesControlUi)
        lines.push(`  web UI:  ${url.replace(/^ws/, 'http')}/ (OpenClaw's Control UI; sign in with a gateway token)`);
      if (built.pushPath !== undefined)
        lines.push(`  push:    ${url.replace(/^ws/, 'http')}${built.pushPath} (signed Cloud Backend events)`);
      for (const warning of built.warnings) lines.push(`WARNING: ${warning}`);
      if (loaded.path === undefined) {
        lines.push(
          '',
          'Create a first token:',
          '  npx openclaw-mt tokens create alice',
          'Then connect with it:',
          `  npx openclaw-mt connect --url ${url} --gateway-token gt_… --message "hi"`,
        );
      }
      if (stopping === undefined) process.stdout.write(`${lines.join('\n')}\n`);
      await stopped;
      process.stdout.write('stopped.\n');
    }),
});
