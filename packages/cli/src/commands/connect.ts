import { createInterface } from 'node:readline';
import { MultiTenantError } from '@openclaw-mt/core';
import { redactText } from '@openclaw-mt/core/tokens';
import { connectGateway, GatewayRequestError, sendChatMessage, type ChatTurn, type GatewayConnection } from '@openclaw-mt/gateway';
import { defineCommand } from 'citty';
import { jsonArg } from '../args/common-args.js';
import { ExitCodes } from '../output/exit-codes.js';
import { gatewayFailureExitCode, gatewayFailureText } from '../output/gateway-failure.js';
import { runAction, type Output } from '../output/output.js';

const TOKEN_ENV = 'OPENCLAW_GATEWAY_TOKEN';

function say(connection: GatewayConnection, message: string, sessionKey: string): Promise<ChatTurn> {
  return sendChatMessage(connection, { message, sessionKey });
}

async function converse(connection: GatewayConnection, output: Output, sessionKey: string): Promise<void> {
  const interactive = process.stdin.isTTY === true;
  const lines = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  if (interactive) {
    process.stdout.write('Connected. Type a message and press Enter; Ctrl-D to quit.\n');
    lines.setPrompt('> ');
    lines.prompt();
  }
  for await (const line of lines) {
    const message = line.trim();
    if (message !== '') {
      const { reply, runId } = await say(connection, message, sessionKey);
      output.result({ runId, reply }, () => reply);
    }
    if (interactive) lines.prompt();
  }
}

/** `openclaw-mt connect` */
export const connectCommand = defineCommand({
  meta: { name: 'connect', description: 'Talk to your assistant through a gateway with your gateway token' },
  args: {
    'gateway-token': { type: 'string', description: `Your gateway token (or set ${TOKEN_ENV}, which keeps it out of shell history)` },
    url: { type: 'string', description: 'Gateway URL', default: 'ws://127.0.0.1:18789' },
    message: { type: 'string', description: 'Send one message, print the reply and exit (default: interactive)' },
    session: { type: 'string', description: 'Session key', default: 'main' },
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      // A token pasted from a file or a here-string often ends in a newline.
      const token = (args['gateway-token'] ?? process.env[TOKEN_ENV])?.trim();
      if (token === undefined || token === '') {
        throw new MultiTenantError('TOKEN_MALFORMED', `Pass --gateway-token or set ${TOKEN_ENV}.`);
      }
      if (!/^wss?:\/\/[^/\s]/.test(args.url)) {
        throw new MultiTenantError('BAD_REQUEST', `The gateway URL must start with ws:// or wss:// (got ${JSON.stringify(args.url)}).`);
      }
      if (args.message !== undefined && args.message.trim() === '') {
        throw new MultiTenantError('BAD_REQUEST', '--message is empty; give the text to send, or leave it out to talk interactively.');
      }
      let connection: GatewayConnection;
      try {
        // The token also rides on the upgrade request, so a locked-out token is refused before any WebSocket work.
        connection = await connectGateway({ url: args.url, token, tokenInHeader: true, client: { id: 'cli', mode: 'cli' } });
      } catch (error) {
        if (!(error instanceof GatewayRequestError)) throw error;
        process.stderr.write(`error: ${redactText(gatewayFailureText(error))}\n`);
        return gatewayFailureExitCode(error);
      }
      try {
        if (args.message !== undefined) {
          const { reply, runId } = await say(connection, args.message, args.session);
          output.result({ runId, reply }, () => reply);
        } else {
          await converse(connection, output, args.session);
        }
      } catch (error) {
        if (!(error instanceof GatewayRequestError)) throw error;
        process.stderr.write(`error: ${redactText(gatewayFailureText(error))}\n`);
        return error.shape.retryable ? ExitCodes.unavailable : ExitCodes.failure;
      } finally {
        connection.close();
      }
    }),
});
