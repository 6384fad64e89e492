import { randomUUID } from 'node:crypto';
import { MultiTenantError, isMultiTenantError } from '@openclaw-mt/core';
import { WorkspaceLayout, assertWorkspacePath } from '@openclaw-mt/core/contracts';
import { redact } from '@openclaw-mt/core/tokens';
import { z } from 'zod';
import type { RequestFrame } from '../protocol/frames.js';
import { eventFrame } from '../protocol/frames.js';
import { echoAgent, type AgentFunction, type TranscriptMessage } from './agent.js';
import type { RuntimeResponse, RuntimeSession, SessionContext, TenantRuntime } from './tenant-runtime.js';

const SESSION_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const sessionKey = z.string().regex(SESSION_KEY, 'letters, digits, ".", "_" and "-", at most 64').default('main');
const fileName = z.string().min(1).max(1024);
const encoding = z.enum(['utf8', 'base64']).default('utf8');

// Strict schemas: a field the method does not know (a `tenantId`, say) is refused, never ignored.
const schemas = {
  health: z.strictObject({}),
  'workspace.list': z.strictObject({ prefix: fileName.optional() }),
  'workspace.read': z.strictObject({ name: fileName, encoding }),
  'workspace.write': z.strictObject({ name: fileName, content: z.string().max(32 * 1024 * 1024), encoding }),
  'workspace.remove': z.strictObject({ name: fileName }),
  'config.get': z.strictObject({}),
  'chat.send': z.strictObject({
    message: z
      .string()
      .min(1)
      .max(256 * 1024),
    sessionKey,
    idempotencyKey: z.string().max(128).optional(),
  }),
  'chat.history': z.strictObject({ sessionKey, limit: z.int().positive().max(1_000).default(100) }),
  'sessions.list': z.strictObject({}),
} as const;

type Method = keyof typeof schemas;

/** The methods the workspace runtime answers. */
export const WORKSPACE_RUNTIME_METHODS = Object.keys(schemas) as readonly Method[];

function params<M extends Method>(method: M, value: unknown): z.output<(typeof schemas)[M]> {
  const parsed = schemas[method].safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where =
      issue.path.length > 0
        ? issue.path.join('.')
        : issue.code === 'unrecognized_keys'
          ? ((issue as { keys?: string[] }).keys?.join(', ') ?? '')
          : '(params)';
    throw new MultiTenantError('BAD_REQUEST', `${method}: ${where}: ${issue.message}.`, { details: { reason: 'invalid-params' } });
  }
  return parsed.data as z.output<(typeof schemas)[M]>;
}

/** A tenant-facing file name mapped into the workspace area of the tenant root. */
function workspaceName(name: string): string {
  assertWorkspacePath(name);
  return `${WorkspaceLayout.workspace}/${name}`;
}

function transcriptName(key: string): string {
  return `${WorkspaceLayout.sessions}/${key}.jsonl`;
}

function decodeContent(content: string, kind: 'utf8' | 'base64'): Uint8Array {
  if (kind === 'utf8') return new TextEncoder().encode(content);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content)) throw new MultiTenantError('BAD_REQUEST', 'content is not valid base64.');
  return Buffer.from(content, 'base64');
}

/** Options of {@link createWorkspaceRuntime}. */
export interface WorkspaceRuntimeOptions {
  /** Answers `chat.send`; defaults to an echo. */
  agent?: AgentFunction;
}

/**
 * The built-in runtime: tenant-scoped RPCs over the tenant's own workspace and config, and `chat.send`
 * answered by a pluggable agent function that appends to the tenant's session transcript.
 */
export function createWorkspaceRuntime(options: WorkspaceRuntimeOptions = {}): TenantRuntime {
  const agent = options.agent ?? echoAgent;

  async function readTranscript(context: SessionContext, key: string): Promise<TranscriptMessage[]> {
    try {
      const text = new TextDecoder().decode(await context.lease.workspace.read(transcriptName(key)));
      return text
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as TranscriptMessage);
    } catch (error) {
      if (isMultiTenantError(error, 'NOT_FOUND')) return [];
      throw error;
    }
  }

  async function checkQuota(context: SessionContext, name: string, newSize: number, append: boolean): Promise<void> {
    const workspace = context.lease.workspace;
    const [usage, existing] = await Promise.all([workspace.usage(), workspace.list(name)]);
    const oldSize = existing.find((file) => file.name === name)?.size ?? 0;
    const total = usage + newSize - (append ? 0 : oldSize);
    if (total > context.quotas.workspaceBytes) {
      throw new MultiTenantError(
        'QUOTA_EXCEEDED',
        `This write would use ${total} bytes of a ${context.quotas.workspaceBytes}-byte workspace quota.`,
        {
          details: { quota: 'workspaceBytes', limit: context.quotas.workspaceBytes },
        },
      );
    }
  }

  async function answer(context: SessionContext, request: RequestFrame): Promise<unknown> {
    const workspace = context.lease.workspace;
    switch (request.method as Method) {
      case 'health':
        params('health', request.params);
        return { ok: true, runtime: 'workspace', tenantId: context.tenantId };
      case 'workspace.list': {
        const { prefix } = params('workspace.list', request.params);
        const files = await workspace.list(prefix === undefined ? WorkspaceLayout.workspace : workspaceName(prefix));
        const strip = WorkspaceLayout.workspace.length + 1;
        return { files: files.map((file) => ({ ...file, name: file.name.slice(strip) })) };
      }
      case 'workspace.read': {
        const { name, encoding: kind } = params('workspace.read', request.params);
        const bytes = await workspace.read(workspaceName(name));
        const content = kind === 'base64' ? Buffer.from(bytes).toString('base64') : new TextDecoder().decode(bytes);
        return { name, encoding: kind, size: bytes.byteLength, content };
      }
      case 'workspace.write': {
        const { name, content, encoding: kind } = params('workspace.write', request.params);
        const target = workspaceName(name);
        const bytes = decodeContent(content, kind);
        await checkQuota(context, target, bytes.byteLength, false);
        await workspace.write(target, bytes);
        return { name, size: bytes.byteLength };
      }
      case 'workspace.remove': {
        const { name } = params('workspace.remove', request.params);
        return { name, removed: await workspace.remove(workspaceName(name)) };
      }
      case 'config.get':
        params('config.get', request.params);
        // Operator defaults may hold provider keys: secret-named values never leave the gateway.
        return { config: redact(context.lease.config), version: context.lease.configVersion };
      case 'chat.send': {
        const { message, sessionKey: key } = params('chat.send', request.params);
        const history = await readTranscript(context, key);
        const reply = await agent({
          tenantId: context.tenantId,
          sessionKey: key,
          message,
          history,
          config: context.lease.config,
          workspace,
          signal: context.signal,
        });
        const now = Date.now();
        const lines = `${JSON.stringify({ role: 'user', content: message, ts: now })}\n${JSON.stringify({ role: 'assistant', content: reply, ts: now })}\n`;
        const bytes = new TextEncoder().encode(lines);
        await checkQuota(context, transcriptName(key), bytes.byteLength, true);
        await workspace.append(transcriptName(key), bytes);
        const runId = randomUUID();
        const assistant = { role: 'assistant', content: [{ type: 'text', text: reply }] };
        context.sendEvent(eventFrame('chat', { runId, sessionKey: key, state: 'final', message: assistant }));
        return { runId, sessionKey: key, status: 'ok', reply };
      }
      case 'chat.history': {
        const { sessionKey: key, limit } = params('chat.history', request.params);
        return { sessionKey: key, messages: (await readTranscript(context, key)).slice(-limit) };
      }
      case 'sessions.list': {
        params('sessions.list', request.params);
        const files = await workspace.list(WorkspaceLayout.sessions);
        return {
          sessions: files
            .filter((file) => file.name.endsWith('.jsonl'))
            .map((file) => ({
              key: file.name.slice(WorkspaceLayout.sessions.length + 1, -'.jsonl'.length),
              size: file.size,
              updatedAt: file.modifiedAt,
            })),
        };
      }
      default:
        throw new MultiTenantError('BAD_REQUEST', `Unknown method ${request.method}.`, { details: { reason: 'unknown-method' } });
    }
  }

  return {
    name: 'workspace',
    async openSession(context): Promise<RuntimeSession> {
      return {
        hello: { features: { methods: [...WORKSPACE_RUNTIME_METHODS], events: ['chat', 'tick', 'shutdown'] } },
        async handle(request): Promise<RuntimeResponse> {
          return { ok: true, payload: await answer(context, request) };
        },
        close() {
          // Nothing held per connection: the workspace belongs to the tenant's lease.
        },
      };
    },
  };
}
