import { defineCommand } from 'citty';
import { lazyCommand } from './lazy-command.js';
import { packageVersion } from './package-version.js';

/**
 * The subcommands, each loaded on first use. The descriptions here are what `openclaw-mt --help`
 * prints; a test keeps them equal to the commands' own.
 */
export const subCommands = {
  serve: lazyCommand({
    meta: { name: 'serve', description: 'Run the multi-tenant gateway (WebSocket, OpenClaw protocol)' },
    load: async () => (await import('./commands/serve.js')).serveCommand,
  }),
  connect: lazyCommand({
    meta: { name: 'connect', description: 'Talk to your assistant through a gateway with your gateway token' },
    load: async () => (await import('./commands/connect.js')).connectCommand,
  }),
  tokens: lazyCommand({
    meta: { name: 'tokens', description: 'Issue, list, revoke and rotate gateway tokens' },
    group: true,
    load: async () => (await import('./commands/tokens.js')).tokensCommand,
  }),
  users: lazyCommand({
    meta: { name: 'users', description: 'Tenants: stored state (the stores) and live state (the running gateway)' },
    group: true,
    load: async () => (await import('./commands/users.js')).usersCommand,
  }),
  config: lazyCommand({
    meta: { name: 'config', description: 'Tenant configs: read and write them in the stores, sync them from the Cloud Backend' },
    group: true,
    load: async () => (await import('./commands/config.js')).configCommand,
  }),
  stats: lazyCommand({
    meta: { name: 'stats', description: "The running gateway's numbers (the same as its /metrics)" },
    load: async () => (await import('./commands/stats.js')).statsCommand,
  }),
  audit: lazyCommand({
    meta: {
      name: 'audit',
      description: 'Administrative actions recorded in the stores (newest first): who, what, when, result — never a secret',
    },
    load: async () => (await import('./commands/audit.js')).auditCommand,
  }),
  doctor: lazyCommand({
    meta: {
      name: 'doctor',
      description: 'Check the config file, directory permissions, Cloud Backend, Redis and ports; exit 5 when a check fails',
    },
    load: async () => (await import('./commands/doctor.js')).doctorCommand,
  }),
  migrate: lazyCommand({
    meta: {
      name: 'migrate',
      description:
        'Move every tenant (workspace files, config, token records) from the stores of one config to those of another — resumable and verified',
    },
    load: async () => (await import('./commands/migrate.js')).migrateCommand,
  }),
  backend: lazyCommand({
    meta: { name: 'backend', description: 'Cloud Backend tools' },
    group: true,
    load: async () => (await import('./commands/backend.js')).backendCommand,
  }),
  runtime: lazyCommand({
    meta: { name: 'runtime', description: 'Manage the OpenClaw install used by the openclaw runtime' },
    group: true,
    load: async () => (await import('./commands/runtime.js')).runtimeCommand,
  }),
};

/** The `openclaw-mt` command and its subcommands. */
export const mainCommand = defineCommand({
  meta: {
    name: 'openclaw-mt',
    version: packageVersion,
    description: 'Serve many OpenClaw users from one gateway: isolated workspaces, configs and sessions, one token each.',
  },
  subCommands,
});
