import type { TenantConfig, WorkspaceHandle } from '@openclaw-mt/core';

/** One message in a session transcript. */
export interface TranscriptMessage {
  role: 'user' | 'assistant';
  content: string;
  ts: number;
}

/** What an agent function receives for one chat turn. */
export interface AgentTurn {
  tenantId: string;
  sessionKey: string;
  message: string;
  /** Earlier messages of the session, oldest first. */
  history: readonly TranscriptMessage[];
  config: TenantConfig;
  workspace: WorkspaceHandle;
  signal: AbortSignal;
}

/** Answers a chat turn. Plug in a real model here; the default echoes. */
export type AgentFunction = (turn: AgentTurn) => Promise<string> | string;

/** The default agent: echoes the message, so the front door can be tried without a model. */
export const echoAgent: AgentFunction = (turn) => `You said: ${turn.message}`;
