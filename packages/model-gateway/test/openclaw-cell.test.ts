import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelGateway, type ModelGateway } from '@openclaw-mt/model-gateway';
import { type FakeProvider, startFakeProvider } from './support/fake-provider.js';
import { captureLogger, fakeKey } from './support/harness.js';
import { type OpenClawCell, startOpenClawCell } from './support/openclaw-cell.js';
import { takeRealCellsTurn } from '../../runtime-openclaw/test/support/real-cells-turn.js';

// The real thing: an unmodified OpenClaw gateway (the installed runtime) whose only model provider is the
// model gateway, with a per-tenant credential as its API key. It sends its own OpenAI-style request; the
// provider must get the operator's key, and the reply must come back. Starts a real cell, in its turn
// with the other files that do (see takeRealCellsTurn).

describe('a real OpenClaw cell behind the model gateway', { timeout: 400_000 }, () => {
  const operatorKey = fakeKey('sk-operator');
  const log = captureLogger();
  let upstream: FakeProvider;
  let gateway: ModelGateway;
  let cell: OpenClawCell;
  let credential: string;

  let endTurn: (() => Promise<void>) | undefined;
  // Registered first, so it runs after this file's other afterAll hooks: its cells are gone by then.
  afterAll(() => endTurn?.());
  beforeAll(async () => {
    endTurn = await takeRealCellsTurn();
    upstream = await startFakeProvider();
    gateway = createModelGateway({
      providers: { fake: { api: 'openai-completions', baseUrl: `${upstream.origin}/v1`, apiKey: operatorKey } },
      logger: log,
    });
    const { origin } = await gateway.listen();
    credential = gateway.issue('alice').credential;
    const provider = gateway.cellProviders(credential, origin!).fake!;
    cell = await startOpenClawCell({
      gateway: { mode: 'local' },
      models: {
        mode: 'merge',
        providers: {
          fake: {
            ...provider,
            models: [
              {
                id: 'fake-model',
                name: 'Fake',
                reasoning: false,
                input: ['text'],
                cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
                contextWindow: 128_000,
                maxTokens: 4_096,
              },
            ],
          },
        },
      },
      agents: { defaults: { model: { primary: 'fake/fake-model' } } },
    });
  }, 1_800_000);

  afterAll(async () => {
    await cell?.stop();
    await gateway?.close();
    await upstream?.close();
  }, 60_000);

  it('answers a chat turn through the gateway; the provider sees only the operator’s key, the cell only its credential', async () => {
    const reply = await cell.chat('Say hello');
    expect(reply).toContain('part 2');

    const chats = upstream.seen.filter((seen) => seen.method === 'POST' && seen.url === '/v1/chat/completions');
    expect(chats.length).toBeGreaterThan(0);
    for (const seen of upstream.seen) {
      expect(seen.headers.authorization).toBe(`Bearer ${operatorKey}`);
      expect(JSON.stringify(seen.headers)).not.toContain(credential);
    }
    const body = JSON.parse(chats.at(-1)!.body) as { model: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
    expect(body.model).toBe('fake-model');
    expect(body).toMatchObject({ stream: true, stream_options: { include_usage: true } });

    // Metered from the provider's own answers.
    const served = upstream.served.reduce((sum, each) => ({ in: sum.in + each.inputTokens, out: sum.out + each.outputTokens }), {
      in: 0,
      out: 0,
    });
    expect(gateway.usage('alice')).toMatchObject({
      requests: upstream.seen.length,
      inputTokens: served.in,
      outputTokens: served.out,
      estimated: 0,
    });

    // The cell's config holds the credential and the gateway's address, never the provider's key or URL.
    const config = await readFile(cell.configPath, 'utf8');
    expect(config).not.toContain(operatorKey);
    expect(config).not.toContain(upstream.origin);
    expect(log.lines.join('\n')).not.toContain(operatorKey);
  });
});
