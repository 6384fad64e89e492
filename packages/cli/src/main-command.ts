import { defineCommand } from 'citty';
import { auditCommand } from './commands/audit.js';
import { backendCommand } from './commands/backend.js';
import { configCommand } from './commands/config.js';
import { connectCommand } from './commands/connect.js';
import { doctorCommand } from './commands/doctor.js';
import { migrateCommand } from './commands/migrate.js';
import { runtimeCommand } from './commands/runtime.js';
import { serveCommand } from './commands/serve.js';
import { statsCommand } from './commands/stats.js';
import { tokensCommand } from './commands/tokens.js';
import { usersCommand } from './commands/users.js';

/** The `openclaw-mt` command and its subcommands. */
export const mainCommand = defineCommand({
  meta: {
    name: 'openclaw-mt',
    version: '0.1.0',
    description: 'Serve many OpenClaw users from one gateway: isolated workspaces, configs and sessions, one token each.',
  },
  subCommands: {
    serve: serveCommand,
    connect: connectCommand,
    tokens: tokensCommand,
    users: usersCommand,
    config: configCommand,
    stats: statsCommand,
    audit: auditCommand,
    doctor: doctorCommand,
    migrate: migrateCommand,
    backend: backendCommand,
    runtime: runtimeCommand,
  },
});
