import {
  DEFAULT_NODE_VERSION,
  DEFAULT_OPENCLAW_VERSION,
  installOpenClawRuntime,
  resolveOpenClawInstall,
  RUNTIME_DIR_ENV,
  defaultRuntimeDir,
} from '@openclaw-mt/runtime-openclaw';
import { defineCommand } from 'citty';
import { jsonArg } from '../args/common-args.js';
import { runAction } from '../output/output.js';

const dirArg = {
  dir: {
    type: 'string',
    description: `Install directory (default: $${RUNTIME_DIR_ENV}, else ~/.cache/openclaw-mt/runtime/openclaw-<version>; /var/cache/… for root)`,
    valueHint: 'path',
  },
} as const;

const install = defineCommand({
  meta: { name: 'install', description: 'Install a pinned OpenClaw and a Node 24 for the openclaw runtime (idempotent)' },
  args: {
    openclaw: { type: 'string', description: `OpenClaw version (default ${DEFAULT_OPENCLAW_VERSION})` },
    node: { type: 'string', description: `Node version from the node-<platform>-<arch> npm package (default ${DEFAULT_NODE_VERSION})` },
    force: { type: 'boolean', description: 'Reinstall even when the versions are already there', default: false },
    ...dirArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const result = await installOpenClawRuntime({
        ...(args.dir ? { dir: args.dir } : {}),
        ...(args.openclaw ? { openclawVersion: args.openclaw } : {}),
        ...(args.node ? { nodeVersion: args.node } : {}),
        force: args.force,
        onProgress: (line) => output.log.info(line),
      });
      output.result(result, () =>
        [
          `${result.installed ? 'Installed' : 'Already installed:'} openclaw ${result.openclawVersion} with Node ${result.nodeVersion}`,
          `  in ${result.dir}${result.installed ? ` (${Math.round(result.durationMs / 1000)} s)` : ''}`,
          '',
          `Serve with it: openclaw-mt serve --runtime openclaw${args.dir ? ` (and ${RUNTIME_DIR_ENV}=${result.dir})` : ''}`,
        ].join('\n'),
      );
    }),
});

const status = defineCommand({
  meta: { name: 'status', description: 'Show the installed OpenClaw runtime (fails when none is installed)' },
  args: { openclaw: { type: 'string', description: `OpenClaw version (default ${DEFAULT_OPENCLAW_VERSION})` }, ...dirArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const found = resolveOpenClawInstall(args.dir ?? defaultRuntimeDir(args.openclaw ?? DEFAULT_OPENCLAW_VERSION));
      output.result(found, () =>
        [
          `openclaw ${found.openclawVersion} with Node ${found.nodeVersion}`,
          `  node:  ${found.nodePath}`,
          `  entry: ${found.entryPath}`,
          `  docs:  ${found.docsDir}`,
        ].join('\n'),
      );
    }),
});

/** `openclaw-mt runtime …` */
export const runtimeCommand = defineCommand({
  meta: { name: 'runtime', description: 'Manage the OpenClaw install used by the openclaw runtime' },
  subCommands: { install, status },
});
