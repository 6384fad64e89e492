// A front door in its own process, so a test can measure its memory from outside.
import { createInterface } from 'node:readline';
import { createMemoryAdapter, TenantManager } from '@openclaw-mt/core';
import { createGateway } from '@openclaw-mt/gateway';

const manager = new TenantManager({ ...createMemoryAdapter(), idleTimeoutMs: 0 });
const gateway = createGateway({ manager, port: 0 });
const { url } = await gateway.listen();
const { token } = await manager.tokens.create('rss-probe');
process.stdout.write(`${JSON.stringify({ url, token })}\n`);
// "rss" → collect garbage, then report the resident set size in bytes.
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'rss') {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
    globalThis.gc?.();
    process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss })}\n`);
  }
}
await gateway.close();
