import { WORKSPACE_FILES, WorkspaceLayout } from './workspace-layout.js';

const DEFAULT_CONTENT: Record<(typeof WORKSPACE_FILES)[number], string> = {
  'AGENTS.md': '# AGENTS.md\n\nHow this assistant works: read SOUL.md, USER.md and MEMORY.md at the start of each session.\n',
  'SOUL.md': '# SOUL.md\n\nWho you are: helpful, honest and concise.\n',
  'USER.md': '# USER.md\n\nWhat you know about the person you help. Fill this in as you learn.\n',
  'IDENTITY.md': '# IDENTITY.md\n\nName: Assistant\n',
  'TOOLS.md': '# TOOLS.md\n\nNotes about the tools available here.\n',
  'HEARTBEAT.md': '# HEARTBEAT.md\n\nPeriodic checks to run. Empty means none.\n',
  'MEMORY.md': '# MEMORY.md\n\nLong-term memory. Keep it short and current.\n',
  'BOOTSTRAP.md': '# BOOTSTRAP.md\n\nFirst-run instructions. Delete this file once setup is done.\n',
};

/** The built-in workspace files, keyed by name relative to the tenant root (`workspace/AGENTS.md`, …). */
export function defaultTemplateFiles(): Map<string, Uint8Array> {
  const encoder = new TextEncoder();
  return new Map(WORKSPACE_FILES.map((name) => [`${WorkspaceLayout.workspace}/${name}`, encoder.encode(DEFAULT_CONTENT[name])]));
}
