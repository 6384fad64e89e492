import { hash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { defaultTemplateFiles } from './default-template.js';
import { WorkspaceLayout } from './workspace-layout.js';
import { assertWorkspacePath } from './workspace-path.js';

/** The files a new workspace starts with; `id` changes whenever any file does. */
export interface WorkspaceTemplate {
  /** Content digest of the whole template. */
  readonly id: string;
  /** File contents keyed by name relative to the tenant root. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/** Builds a template from files keyed by name relative to the tenant root. */
export function createWorkspaceTemplate(files: ReadonlyMap<string, Uint8Array>): WorkspaceTemplate {
  const names = [...files.keys()].map(assertWorkspacePath).sort();
  const digest = names.map((name) => `${name}\0${hash('sha256', files.get(name)!, 'hex')}`).join('\n');
  return { id: hash('sha256', digest, 'hex'), files: new Map(names.map((name) => [name, files.get(name)!])) };
}

/** The built-in template: the standard OpenClaw workspace files with short starter content. */
export function defaultWorkspaceTemplate(): WorkspaceTemplate {
  return createWorkspaceTemplate(defaultTemplateFiles());
}

async function collect(dir: string, prefix: string, into: Map<string, Uint8Array>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    const path = join(dir, entry.name);
    // Operator templates are trusted, but a symlink could still pull in files from anywhere: skip them.
    if ((await lstat(path)).isSymbolicLink()) continue;
    if (entry.isDirectory()) await collect(path, name, into);
    else if (entry.isFile()) into.set(assertWorkspacePath(`${WorkspaceLayout.workspace}/${name}`), await readFile(path));
  }
}

/**
 * Loads an operator template directory laid out like an OpenClaw workspace (`AGENTS.md`, `skills/…`).
 * Its files override the built-in defaults; standard files it lacks keep their defaults (the resolver
 * order tenant file → operator template → built-in default). Without a path, returns the defaults.
 */
export async function loadWorkspaceTemplate(templatePath?: string): Promise<WorkspaceTemplate> {
  const files = defaultTemplateFiles();
  if (templatePath === undefined) return createWorkspaceTemplate(files);
  try {
    await collect(templatePath, '', files);
  } catch (error) {
    if (error instanceof MultiTenantError) throw error;
    throw new MultiTenantError('CONFIG_INVALID', `templatePath: cannot read the template directory ${templatePath}.`, {
      cause: error,
    });
  }
  return createWorkspaceTemplate(files);
}
