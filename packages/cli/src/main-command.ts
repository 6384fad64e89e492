import { defineCommand } from 'citty';
import { backendCommand } from './commands/backend.js';
import { connectCommand } from './commands/connect.js';
import { runtimeCommand } from './commands/runtime.js';
import { serveCommand } from './commands/serve.js';
import { tokensCommand } from './commands/tokens.js';

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
    backend: backendCommand,
    runtime: runtimeCommand,
  },
});
