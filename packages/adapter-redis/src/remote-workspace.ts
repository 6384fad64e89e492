import { randomBytes } from 'node:crypto';
import { MultiTenantError, type WorkspaceFileInfo, type WorkspaceLimits } from '@openclaw-mt/core';
import {
  assertWithinLimits,
  syncWorkspaceTemplate,
  type WorkspaceTemplate,
  type TemplateManifest,
  type TemplateSyncIO,
} from '@openclaw-mt/core/contracts';
import type { RedisKeys } from './keys.js';
import type { RedisConnection } from './redis-connection.js';
import { fieldsOf, integerOf } from './reply.js';
import { RELEASE_LEASE } from './scripts/lease-scripts.js';
import { DESTROY_WORKSPACE, INIT_WORKSPACE, WRITE_BACK, WRITE_FILE, WRITE_MANIFEST } from './scripts/workspace-scripts.js';

/** One file of a write-back: new bytes, or `undefined` to delete it. */
export interface WriteBackOp {
  name: string;
  data: Uint8Array | undefined;
}

/** Largest payload sent in one write-back script; bigger write-backs are split (each part fenced). */
const BATCH_BYTES = 16 * 1024 * 1024;
const BATCH_FILES = 500;
/** Longest a template update may hold its lock (it expires on its own if the node dies). */
const TEMPLATE_LOCK_MS = 10_000;

/**
 * The Redis copy of one tenant's workspace: `ws:state` (usage, manifest), `ws:meta` (name →
 * `size:modifiedAt`) and one string per file, all under the tenant's hash tag. Every write runs in
 * one Lua script that checks the writer's fence, that the workspace still exists and the size caps.
 */
export class RemoteWorkspace {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: RedisKeys,
    readonly tenantId: string,
    private readonly limits: WorkspaceLimits,
    private readonly now: () => number,
  ) {}

  private get base(): string[] {
    const { keys, tenantId } = this;
    return [keys.workspaceState(tenantId), keys.workspaceMeta(tenantId), keys.fence(tenantId)];
  }

  private check(reply: unknown[], fence: number | undefined, name = ''): void {
    const status = String(reply[0]);
    if (status === 'OK' || status === 'CREATED') return;
    if (status === 'LEASE_LOST') {
      throw new MultiTenantError(
        'LEASE_LOST',
        `${this.tenantId} was taken over by another node (fence ${String(reply[1])} > ${String(fence)}); this write was refused.`,
        {
          details: { tenantId: this.tenantId, fence, currentFence: Number(reply[1]) },
        },
      );
    }
    if (status === 'NOT_FOUND')
      throw new MultiTenantError('NOT_FOUND', `The workspace of ${this.tenantId} was destroyed.`, { details: { tenantId: this.tenantId } });
    if (status === 'LIMIT') {
      assertWithinLimits(this.limits, name, Number(reply[1]), Number(reply[2]), Number(reply[3]));
    }
    if (status === 'FILE_TOO_LARGE') assertWithinLimits(this.limits, String(reply[1]), Number(reply[2]), 0, 0);
    if (status === 'QUOTA_EXCEEDED') {
      throw new MultiTenantError(
        'QUOTA_EXCEEDED',
        `Writing back would leave the workspace with ${String(reply[2])} bytes, over its limit of ${this.limits.maxWorkspaceBytes}.`,
        {
          details: { usage: Number(reply[1]), limit: this.limits.maxWorkspaceBytes },
        },
      );
    }
    throw new MultiTenantError('INTERNAL', `Unexpected reply from a workspace script: ${status}.`);
  }

  /** Creates the workspace when missing; returns whether it did. Refuses a stale fence. */
  async init(fence: number | undefined): Promise<boolean> {
    const reply = await this.connection.run<unknown[]>(INIT_WORKSPACE, this.base, [fenceArg(fence), String(this.now())]);
    this.check(reply, fence);
    return reply[0] === 'CREATED';
  }

  /** Replaces (`set`) or extends (`append`) a file; returns its new size. */
  async write(fence: number | undefined, mode: 'set' | 'append', name: string, data: Uint8Array): Promise<number> {
    const reply = await this.connection.run<unknown[]>(
      WRITE_FILE,
      [...this.base, this.keys.workspaceFile(this.tenantId, name)],
      [
        fenceArg(fence),
        mode,
        name,
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        String(this.now()),
        String(this.limits.maxFileBytes),
        String(this.limits.maxWorkspaceBytes),
      ],
    );
    this.check(reply, fence, name);
    return integerOf(reply[1]);
  }

  /** Deletes a file; returns whether it existed. */
  async remove(fence: number | undefined, name: string): Promise<boolean> {
    const reply = await this.connection.run<unknown[]>(
      WRITE_FILE,
      [...this.base, this.keys.workspaceFile(this.tenantId, name)],
      [fenceArg(fence), 'delete', name, '', String(this.now()), String(this.limits.maxFileBytes), String(this.limits.maxWorkspaceBytes)],
    );
    this.check(reply, fence, name);
    return integerOf(reply[1]) === 1;
  }

  /** Applies many changes, each batch all or nothing (fence, existence and caps checked first). */
  async writeBack(fence: number | undefined, ops: readonly WriteBackOp[]): Promise<void> {
    let batch: WriteBackOp[] = [];
    let bytes = 0;
    const send = async (): Promise<void> => {
      if (batch.length === 0) return;
      const keys = [...this.base, ...batch.map((op) => this.keys.workspaceFile(this.tenantId, op.name))];
      const args: Array<string | Buffer> = [
        fenceArg(fence),
        String(this.now()),
        String(this.limits.maxFileBytes),
        String(this.limits.maxWorkspaceBytes),
      ];
      for (const op of batch) {
        if (op.data === undefined) args.push('d', op.name, '');
        else args.push('w', op.name, Buffer.from(op.data.buffer, op.data.byteOffset, op.data.byteLength));
      }
      this.check(await this.connection.run<unknown[]>(WRITE_BACK, keys, args), fence);
      batch = [];
      bytes = 0;
    };
    for (const op of ops) {
      const size = op.data?.byteLength ?? 0;
      if (batch.length > 0 && (bytes + size > BATCH_BYTES || batch.length >= BATCH_FILES)) await send();
      batch.push(op);
      bytes += size;
    }
    await send();
  }

  /** A file's bytes, or `undefined`. */
  async read(name: string): Promise<Uint8Array | undefined> {
    const key = this.keys.workspaceFile(this.tenantId, name);
    const data = await this.connection.send<Buffer | null>(key, ['GET', key], { buffers: true });
    return data === null || data === undefined ? undefined : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** Every file's name, size and modification time, sorted by name. */
  async files(): Promise<WorkspaceFileInfo[]> {
    const key = this.keys.workspaceMeta(this.tenantId);
    const out: WorkspaceFileInfo[] = [];
    for (const [name, value] of fieldsOf(await this.connection.send(key, ['HGETALL', key]))) {
      const [size = '0', modifiedAt = '0'] = value.split(':');
      out.push({ name, size: Number(size), modifiedAt: Number(modifiedAt) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Total bytes of all files. */
  async usage(): Promise<number> {
    const key = this.keys.workspaceState(this.tenantId);
    return integerOf(await this.connection.send(key, ['HGET', key, 'usage']));
  }

  /** Whether the workspace exists. */
  async exists(): Promise<boolean> {
    const key = this.keys.workspaceState(this.tenantId);
    return integerOf(await this.connection.send(key, ['EXISTS', key])) === 1;
  }

  /** Deletes everything of the workspace; returns whether it existed. */
  async destroy(): Promise<boolean> {
    const [state, meta] = this.base;
    const reply = await this.connection.run(DESTROY_WORKSPACE, [state!, meta!], [this.keys.workspaceFilePrefix(this.tenantId)]);
    return integerOf(reply) === 1;
  }

  /**
   * Brings the workspace up to date with `template` (core's template-follow policy). Costs one read
   * when nothing changed; otherwise runs under a short Redis lock, because nodes opening the tenant
   * at the same time would otherwise interleave their read-compare-write steps.
   */
  async syncTemplate(fence: number | undefined, template: WorkspaceTemplate): Promise<void> {
    const io = this.templateIO(fence);
    if ((await io.readManifest())?.templateId === template.id) return;
    const key = this.keys.workspaceLock(this.tenantId);
    const token = randomBytes(12).toString('hex');
    const deadline = Date.now() + TEMPLATE_LOCK_MS;
    while ((await this.connection.send(key, ['SET', key, token, 'NX', 'PX', String(TEMPLATE_LOCK_MS)])) === null) {
      if (Date.now() > deadline) {
        throw new MultiTenantError(
          'BACKEND_UNAVAILABLE',
          `Another node is updating the workspace of ${this.tenantId}; try again shortly.`,
          { retryAfterMs: 1_000 },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    try {
      await syncWorkspaceTemplate(io, template);
    } finally {
      await this.connection.run(RELEASE_LEASE, [key], [token]).catch(() => undefined);
    }
  }

  /** The raw I/O `syncWorkspaceTemplate` needs, with every write fenced. */
  templateIO(fence: number | undefined): TemplateSyncIO {
    return {
      readManifest: async () => {
        const key = this.keys.workspaceState(this.tenantId);
        const text = await this.connection.send<string | null>(key, ['HGET', key, 'manifest']);
        if (text === null || text === undefined) return undefined;
        try {
          const manifest = JSON.parse(text) as TemplateManifest;
          return typeof manifest?.templateId === 'string' && typeof manifest.files === 'object' && manifest.files !== null
            ? manifest
            : undefined;
        } catch {
          // A damaged manifest only means template files are compared afresh.
          return undefined;
        }
      },
      writeManifest: async (manifest) => {
        this.check(await this.connection.run<unknown[]>(WRITE_MANIFEST, this.base, [fenceArg(fence), JSON.stringify(manifest)]), fence);
      },
      readFile: (name) => this.read(name),
      writeFile: async (name, data) => {
        await this.write(fence, 'set', name, data);
      },
    };
  }
}

function fenceArg(fence: number | undefined): string {
  return fence === undefined ? '' : String(fence);
}
