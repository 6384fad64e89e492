import { randomBytes } from 'node:crypto';
import { createModelGateway, type ModelGateway, type ModelGatewayLogger, type ModelGatewayOptions } from '@openclaw-mt/model-gateway';
import { type FakeProvider, startFakeProvider } from './fake-provider.js';

/** A logger that keeps every line, at every level, for assertions. */
export function captureLogger(): ModelGatewayLogger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** A key that looks like a real one. */
export const fakeKey = (prefix: string) => `${prefix}-${randomBytes(24).toString('base64url')}`;

/** A model gateway over one fake provider that speaks all three API shapes, listening on loopback. */
export interface Harness {
  gateway: ModelGateway;
  upstream: FakeProvider;
  origin: string;
  keys: { openai: string; anthropic: string; google: string };
  log: ReturnType<typeof captureLogger>;
  stop(): Promise<void>;
}

export async function startHarness(options: Partial<ModelGatewayOptions> = {}): Promise<Harness> {
  const upstream = await startFakeProvider();
  const keys = { openai: fakeKey('sk-proj'), anthropic: fakeKey('sk-ant-api03'), google: fakeKey('AIzaSy') };
  const log = captureLogger();
  const gateway = createModelGateway({
    providers: {
      openai: {
        api: 'openai-completions',
        baseUrl: `${upstream.origin}/v1`,
        apiKey: keys.openai,
        headers: { 'openai-organization': 'org-operator' },
      },
      anthropic: { api: 'anthropic-messages', baseUrl: `${upstream.origin}/v1`, apiKey: keys.anthropic },
      google: { api: 'google-generative-ai', baseUrl: `${upstream.origin}/v1beta`, apiKey: keys.google },
      responses: { api: 'openai-responses', baseUrl: `${upstream.origin}/v1`, apiKey: keys.openai },
    },
    logger: log,
    ...options,
  });
  const { origin } = await gateway.listen();
  return {
    gateway,
    upstream,
    origin: origin!,
    keys,
    log,
    async stop() {
      await gateway.close();
      await upstream.close();
    },
  };
}

/** A small OpenAI chat request. */
export const chat = (model = 'gpt-fake', extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'What is the capital of France? (a prompt that must never be logged)' }],
  ...extra,
});

/** A small Anthropic messages request. */
export const message = (model = 'claude-fake', extra: Record<string, unknown> = {}) => ({
  model,
  max_tokens: 256,
  messages: [{ role: 'user', content: 'Say hello (a prompt that must never be logged)' }],
  ...extra,
});

/** A small Google generateContent request. */
export const content = () => ({ contents: [{ role: 'user', parts: [{ text: 'Say hello (a prompt that must never be logged)' }] }] });

/** Waits (polling) until `check` holds, or fails naming `what`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
