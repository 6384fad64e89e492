import { randomBytes } from 'node:crypto';
import type { TokenRecord } from '../contracts/token-store.js';
import { createWorkspaceTemplate, type WorkspaceTemplate } from '../workspace/workspace-template.js';

/** A fresh tenant id (lowercase, so it is valid everywhere). */
export function randomTenantId(prefix = 't'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** A fresh token hash. */
export function randomTokenHash(): string {
  return randomBytes(32).toString('hex');
}

/** A valid active token record. */
export function sampleTokenRecord(tenantId: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return { tokenHash: randomTokenHash(), tenantId, status: 'active', createdAt: Date.now(), ...overrides };
}

const encoder = new TextEncoder();

/** A small template with one nested file, distinct per `version`. */
export function sampleTemplate(version: string): WorkspaceTemplate {
  return createWorkspaceTemplate(
    new Map([
      ['workspace/AGENTS.md', encoder.encode(`# Agents ${version}\n`)],
      ['workspace/SOUL.md', encoder.encode(`# Soul ${version}\n`)],
      ['workspace/skills/hello/SKILL.md', encoder.encode(`# Hello skill ${version}\n`)],
    ]),
  );
}

/**
 * Names every adapter must refuse with `PATH_INVALID`: traversal, absolute, Windows, encoded,
 * NUL-containing, hidden, empty and non-ASCII look-alikes.
 */
export const HOSTILE_NAMES: readonly string[] = [
  '',
  '.',
  '..',
  '../escape.md',
  'workspace/../../escape.md',
  'workspace/./AGENTS.md',
  '/etc/passwd',
  '//server/share',
  '\\\\server\\share',
  'C:\\Windows\\win.ini',
  'C:relative',
  'workspace\\..\\escape',
  '%2e%2e/escape',
  '..%2fescape',
  '%252e%252e%252fescape',
  'workspace/%00.md',
  'a\0b',
  'workspace/AGENTS.md\0.png',
  '.hidden',
  'workspace/.git/config',
  'workspace//double',
  'workspace/',
  '\u2025/escape',
  '\uff0e\uff0e/escape',
  'caf\u00e9.md',
  'line\nbreak',
  `${'a/'.repeat(40)}deep`,
];
