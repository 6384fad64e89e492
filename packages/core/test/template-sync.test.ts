import { describe, expect, test } from 'vitest';
import { createWorkspaceTemplate, syncWorkspaceTemplate, type TemplateManifest } from '@openclaw-mt/core/contracts';

const bytes = (text: string) => new TextEncoder().encode(text);

function memoryIO() {
  const files = new Map<string, Uint8Array>();
  let manifest: TemplateManifest | undefined;
  let reads = 0;
  return {
    files,
    get reads() {
      return reads;
    },
    io: {
      readManifest: async () => manifest,
      writeManifest: async (next: TemplateManifest) => {
        manifest = next;
      },
      readFile: async (name: string) => {
        reads++;
        return files.get(name);
      },
      writeFile: async (name: string, data: Uint8Array) => void files.set(name, data),
    },
  };
}

describe('template following', () => {
  test('first sync writes every file; an unchanged template costs only the manifest read', async () => {
    const store = memoryIO();
    const template = createWorkspaceTemplate(
      new Map([
        ['workspace/A.md', bytes('a1')],
        ['workspace/B.md', bytes('b1')],
      ]),
    );
    expect(await syncWorkspaceTemplate(store.io, template)).toEqual(['workspace/A.md', 'workspace/B.md']);
    const readsBefore = store.reads;
    expect(await syncWorkspaceTemplate(store.io, template)).toEqual([]);
    expect(store.reads).toBe(readsBefore);
  });

  test('updates reach untouched files only; edits and deletions by the tenant are kept; new template files arrive', async () => {
    const store = memoryIO();
    const v1 = createWorkspaceTemplate(
      new Map([
        ['workspace/A.md', bytes('a1')],
        ['workspace/B.md', bytes('b1')],
        ['workspace/C.md', bytes('c1')],
      ]),
    );
    await syncWorkspaceTemplate(store.io, v1);
    store.files.set('workspace/B.md', bytes('mine'));
    store.files.delete('workspace/C.md');
    const v2 = createWorkspaceTemplate(
      new Map([
        ['workspace/A.md', bytes('a2')],
        ['workspace/B.md', bytes('b2')],
        ['workspace/C.md', bytes('c2')],
        ['workspace/D.md', bytes('d2')],
      ]),
    );
    expect(await syncWorkspaceTemplate(store.io, v2)).toEqual(['workspace/A.md', 'workspace/D.md']);
    expect(new TextDecoder().decode(store.files.get('workspace/B.md'))).toBe('mine');
    expect(store.files.has('workspace/C.md')).toBe(false);
    // A later template still leaves the tenant's edit alone and still follows for A.
    const v3 = createWorkspaceTemplate(
      new Map([
        ['workspace/A.md', bytes('a3')],
        ['workspace/B.md', bytes('b3')],
      ]),
    );
    expect(await syncWorkspaceTemplate(store.io, v3)).toEqual(['workspace/A.md']);
  });

  test('a tenant edit that happens to equal the new template is adopted as following again', async () => {
    const store = memoryIO();
    await syncWorkspaceTemplate(store.io, createWorkspaceTemplate(new Map([['workspace/A.md', bytes('a1')]])));
    store.files.set('workspace/A.md', bytes('a2'));
    await syncWorkspaceTemplate(store.io, createWorkspaceTemplate(new Map([['workspace/A.md', bytes('a2')]])));
    expect(await syncWorkspaceTemplate(store.io, createWorkspaceTemplate(new Map([['workspace/A.md', bytes('a3')]])))).toEqual([
      'workspace/A.md',
    ]);
  });
});
