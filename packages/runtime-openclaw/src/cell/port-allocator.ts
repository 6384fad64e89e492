import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { MultiTenantError } from '@openclaw-mt/core';

/** Where cells listen: loopback ports `first`, `first + stride`, … up to `last`. */
export interface PortRange {
  /** Default 40000. */
  first?: number;
  /** Default 59999. */
  last?: number;
  /**
   * Distance between two cells' ports (default 128). OpenClaw derives more ports from its own (browser
   * control at +2, browser profiles' CDP ports up to +110), so cells need room between them.
   */
  stride?: number;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Hands out cell ports from a range, each checked free on loopback, never the same one twice at once. */
export class PortAllocator {
  private readonly first: number;
  private readonly stride: number;
  private readonly slots: number;
  private readonly used = new Set<number>();
  // Each allocator starts at a random slot: two gateways on one host rarely race for the same port.
  private cursor: number;

  constructor(range: PortRange = {}) {
    this.first = range.first ?? 40_000;
    const last = range.last ?? 59_999;
    this.stride = range.stride ?? 128;
    const valid =
      [this.first, last, this.stride].every(Number.isSafeInteger) &&
      this.first >= 1024 &&
      last <= 65_535 &&
      this.stride >= 1 &&
      last >= this.first;
    if (!valid)
      throw new MultiTenantError(
        'CONFIG_INVALID',
        `ports: expected 1024 ≤ first ≤ last ≤ 65535 and a positive stride, got ${JSON.stringify(range)}.`,
      );
    this.slots = Math.floor((last - this.first) / this.stride) + 1;
    this.cursor = randomInt(this.slots);
  }

  /** A free port; `CAPACITY` when every slot is taken. */
  async allocate(): Promise<number> {
    for (let tried = 0; tried < this.slots; tried++) {
      const port = this.first + ((this.cursor + tried) % this.slots) * this.stride;
      if (this.used.has(port)) continue;
      this.used.add(port);
      if (await bindable(port)) {
        // Round-robin, so a port just given back rests before it is handed out again.
        this.cursor = (this.cursor + tried + 1) % this.slots;
        return port;
      }
      this.used.delete(port);
    }
    throw new MultiTenantError(
      'CAPACITY',
      `No free port for another OpenClaw cell (${this.slots} slots from ${this.first}, stride ${this.stride}).`,
      {
        retryAfterMs: 5_000,
      },
    );
  }

  release(port: number): void {
    this.used.delete(port);
  }
}
