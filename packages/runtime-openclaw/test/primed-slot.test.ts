import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandboxSupport } from '@openclaw-mt/runtime-openclaw';
import { createPrimedSlot, mountTenant, mountsUnder, removePrimedSlot, removePrimedSlots } from '../src/sandbox/primed-slot.js';

// The placeholders a primed process sits in, and the mounts that give it a tenant's directories later.
// Mounting takes root; the propagation check also needs bubblewrap.

const asRoot = process.platform === 'linux' && process.getuid?.() === 0;
const support = sandboxSupport();

describe.skipIf(!asRoot)('primed slots', () => {
  let base: string;
  let tenant: { workspaceDir: string; stateDir: string; runDir: string };

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'ocmt-slot-'));
    tenant = { workspaceDir: join(base, 'tenant', 'workspace'), stateDir: join(base, 'tenant', 'agent'), runDir: join(base, 'run') };
    for (const dir of Object.values(tenant)) await mkdir(dir, { recursive: true });
    await writeFile(join(tenant.workspaceDir, 'notes.md'), 'the tenant wrote this');
    await writeFile(join(tenant.stateDir, 'openclaw.json'), '{}');
  });

  afterEach(async () => {
    // Never leave a mount behind, even when a test failed half-way.
    for (const point of await mountsUnder(base)) await removePrimedSlot(point).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
  });

  it('shows the tenant directories at the placeholders, and removing the slot unmounts them and keeps every tenant file', async () => {
    const slot = await createPrimedSlot(join(base, 'slots', 'primed-1'));
    expect(await mountsUnder(slot.root)).toEqual([slot.root]);
    expect(await readFile(join(slot.runDir, 'etc', 'passwd'), 'utf8')).not.toContain('openclaw-mt tenant');

    await mountTenant(slot, tenant);
    expect(await readFile(join(slot.workspaceDir, 'notes.md'), 'utf8')).toBe('the tenant wrote this');
    await writeFile(join(slot.stateDir, 'session.json'), '{"written":"through the slot"}');
    expect(await mountsUnder(slot.root)).toHaveLength(4);

    await removePrimedSlot(slot.root);
    expect(existsSync(slot.root)).toBe(false);
    expect(await mountsUnder(base)).toEqual([]);
    expect(await readFile(join(tenant.workspaceDir, 'notes.md'), 'utf8')).toBe('the tenant wrote this');
    expect(await readFile(join(tenant.stateDir, 'session.json'), 'utf8')).toBe('{"written":"through the slot"}');
  });

  it('after a crash, clears every slot left mounted without touching the tenant files behind the mounts', async () => {
    const dir = join(base, 'slots');
    for (const name of ['primed-1', 'primed 2']) await mountTenant(await createPrimedSlot(join(dir, name)), tenant);
    await writeFile(join(dir, 'stray-file'), '');
    expect((await mountsUnder(dir)).length).toBe(8);

    await removePrimedSlots(dir);
    expect(await mountsUnder(base)).toEqual([]);
    expect(existsSync(join(dir, 'primed-1'))).toBe(false);
    expect(existsSync(join(dir, 'primed 2'))).toBe(false);
    expect(await readFile(join(tenant.workspaceDir, 'notes.md'), 'utf8')).toBe('the tenant wrote this');
    expect(await readFile(join(tenant.stateDir, 'openclaw.json'), 'utf8')).toBe('{}');
  });

  it('refuses a tenant directory that is a link, and mounts nothing then', async () => {
    const slot = await createPrimedSlot(join(base, 'slots', 'primed-1'));
    const link = join(base, 'tenant', 'linked-workspace');
    await symlink('/etc', link);
    await expect(mountTenant(slot, { ...tenant, workspaceDir: link })).rejects.toThrow(/not a directory/);
    expect(await mountsUnder(slot.root)).toEqual([slot.root]);
  });

  it.skipIf(!support.available)('reaches a sandbox that bound the placeholders before the tenant was known', async () => {
    const slot = await createPrimedSlot(join(base, 'slots', 'primed-1'));
    const system = ['/usr', '/bin', '/lib', '/lib64'].flatMap((path) => (existsSync(path) ? ['--ro-bind', path, path] : []));
    const sandbox = spawn(
      support.bwrapPath!,
      [
        '--die-with-parent',
        '--unshare-pid',
        ...system,
        '--bind',
        slot.workspaceDir,
        '/tenant/workspace',
        '--',
        'sh',
        '-c',
        'echo started; while [ ! -f /tenant/workspace/notes.md ]; do sleep 0.05; done; cat /tenant/workspace/notes.md',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    sandbox.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    sandbox.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => sandbox.once('exit', resolve));
    while (!output.includes('started')) await new Promise((resolve) => setTimeout(resolve, 20));
    // Empty until now: the sandbox sees the placeholder.
    await mountTenant(slot, tenant);
    const timeout = setTimeout(() => sandbox.kill('SIGKILL'), 10_000);
    expect(await exited).toBe(0);
    clearTimeout(timeout);
    expect(output).toBe('started\nthe tenant wrote this');
    await removePrimedSlot(slot.root);
  });
});
