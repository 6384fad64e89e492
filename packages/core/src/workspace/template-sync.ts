import { hash } from 'node:crypto';
import type { WorkspaceTemplate } from './workspace-template.js';

/** What a workspace remembers about the template files it was given. */
export interface TemplateManifest {
  /** The template id this workspace was last brought up to date with. */
  templateId: string;
  /** Digest of each template file as last written by the template (not by the tenant). */
  files: Record<string, string>;
}

/** The raw I/O an adapter supplies so core can apply its template policy. */
export interface TemplateSyncIO {
  readManifest(): Promise<TemplateManifest | undefined>;
  writeManifest(manifest: TemplateManifest): Promise<void>;
  /** A file's bytes, or `undefined` when it does not exist. */
  readFile(name: string): Promise<Uint8Array | undefined>;
  writeFile(name: string, data: Uint8Array): Promise<void>;
}

function digest(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/**
 * Brings a workspace up to date with `template`, following the rule "a file the tenant never changed
 * follows the template": a template file is written when the workspace lacks it and never had it, or
 * when the workspace copy is byte-identical to what the template last wrote. Files the tenant edited
 * or deleted are left alone. Costs one manifest read when the template has not changed.
 * Returns the names written.
 */
export async function syncWorkspaceTemplate(io: TemplateSyncIO, template: WorkspaceTemplate): Promise<string[]> {
  const manifest = await io.readManifest();
  if (manifest?.templateId === template.id) return [];
  const known = manifest?.files ?? {};
  const next: Record<string, string> = {};
  const written: string[] = [];
  for (const [name, content] of template.files) {
    const wanted = digest(content);
    const current = await io.readFile(name);
    const lastWritten = known[name];
    if (current === undefined) {
      // Deleted by the tenant after the template wrote it: a deliberate change, keep it deleted.
      if (lastWritten !== undefined) {
        next[name] = lastWritten;
        continue;
      }
      await io.writeFile(name, content);
      written.push(name);
      next[name] = wanted;
      continue;
    }
    const currentDigest = digest(current);
    if (currentDigest === wanted) next[name] = wanted;
    else if (lastWritten !== undefined && currentDigest === lastWritten) {
      await io.writeFile(name, content);
      written.push(name);
      next[name] = wanted;
    } else if (lastWritten !== undefined) next[name] = lastWritten;
  }
  await io.writeManifest({ templateId: template.id, files: next });
  return written;
}
