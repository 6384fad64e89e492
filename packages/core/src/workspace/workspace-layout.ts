/**
 * The layout of a tenant root, shared by every adapter and runtime: the OpenClaw workspace, the agent
 * dir and the sessions dir side by side, so one tenant's whole state moves as one tree.
 */
export const WorkspaceLayout = {
  /** The OpenClaw workspace (`AGENTS.md`, `SOUL.md`, …, `memory/`, `skills/`). */
  workspace: 'workspace',
  /** The agent dir (auth profiles, agent state). */
  agent: 'agent',
  /** Session transcripts. */
  sessions: 'sessions',
} as const;

/** The standard OpenClaw workspace files, relative to {@link WorkspaceLayout.workspace}. */
export const WORKSPACE_FILES = [
  'AGENTS.md',
  'SOUL.md',
  'USER.md',
  'IDENTITY.md',
  'TOOLS.md',
  'HEARTBEAT.md',
  'MEMORY.md',
  'BOOTSTRAP.md',
] as const;

/** Directories every tenant root has, relative to the root. */
export const WORKSPACE_DIRECTORIES = [
  WorkspaceLayout.workspace,
  `${WorkspaceLayout.workspace}/memory`,
  `${WorkspaceLayout.workspace}/skills`,
  WorkspaceLayout.agent,
  WorkspaceLayout.sessions,
] as const;
