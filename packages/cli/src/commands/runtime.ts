import { statSync } from 'node:fs';
import {
  DEFAULT_NODE_VERSION,
  DEFAULT_OPENCLAW_VERSION,
  installOpenClawRuntime,
  osUsersAvailable,
  pruneRetiredAccounts,
  resolveOpenClawInstall,
  retiredAccounts,
  RUNTIME_DIR_ENV,
  defaultRuntimeDir,
} from '@openclaw-mt/runtime-openclaw';
import { MultiTenantError } from '@openclaw-mt/core';
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

/** `/`, and the usual world-writable trees that are file systems of their own (a walk of `/` stays on its own). */
function defaultScan(): string[] {
  const rootDevice = statSync('/').dev;
  const own = ['/tmp', '/var/tmp', '/dev/shm'].filter((path) => {
    const info = statSync(path, { throwIfNoEntry: false });
    return info?.isDirectory() === true && info.dev !== rootDevice;
  });
  return ['/', ...own];
}

const accounts = defineCommand({
  meta: {
    name: 'accounts',
    description: 'Retired tenant OS accounts (ocmx-…: their uids stay taken); --prune removes those nothing is left of',
  },
  args: {
    prune: {
      type: 'boolean',
      description: 'userdel each retired account no process runs as and no file under --scan is owned by',
      default: false,
    },
    scan: {
      type: 'string',
      description:
        'Comma-separated trees to search for their files, each within its file system (default: /, and /tmp, /var/tmp, /dev/shm when they are file systems of their own)',
      valueHint: 'paths',
    },
    uid: { type: 'string', description: 'Only this uid', valueHint: 'uid' },
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      if (!osUsersAvailable())
        throw new MultiTenantError(
          'CONFIG_INVALID',
          'Tenant OS accounts exist only on Linux, made by a gateway running as root: run this as root.',
        );
      const uid = args.uid === undefined ? undefined : Number(args.uid);
      if (uid !== undefined && !Number.isSafeInteger(uid))
        throw new MultiTenantError('CONFIG_INVALID', `--uid: expected a number, got "${args.uid}".`);
      if (!args.prune) {
        const retired = (await retiredAccounts()).filter((account) => uid === undefined || account.uid === uid);
        output.result({ retired }, () =>
          [`${retired.length} retired tenant account(s)`, ...retired.map((account) => `  ${account.name} (uid ${account.uid})`)].join('\n'),
        );
        return;
      }
      const scan = args.scan === undefined ? defaultScan() : args.scan.split(',').filter(Boolean);
      output.log.info(`Searching ${scan.join(', ')} for files of retired accounts…`);
      const result = await pruneRetiredAccounts({ scan, ...(uid === undefined ? {} : { uids: [uid] }) });
      output.result(result, () =>
        [
          `Removed ${result.removed.length} retired account(s); kept ${result.kept.length}.`,
          ...result.removed.map((account) => `  removed ${account.name} (uid ${account.uid})`),
          ...result.kept.map(
            (account) =>
              `  kept    ${account.name} (uid ${account.uid}): ${account.reason === 'files' ? 'it owns files' : 'a process runs as it'}`,
          ),
        ].join('\n'),
      );
    }),
});

/** `openclaw-mt runtime …` */
export const runtimeCommand = defineCommand({
  meta: { name: 'runtime', description: 'Manage the OpenClaw install used by the openclaw runtime' },
  subCommands: { install, status, accounts },
});
