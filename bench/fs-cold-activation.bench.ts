import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import { defaultWorkspaceTemplate, TenantManager, WORKSPACE_DIRECTORIES } from '@openclaw-mt/core';
import { type Benchmark, round } from './harness.js';

const ACTIVATIONS = 300;

/** Time for `count` sequential runs of `step(i)`, in ms. */
async function timed(count: number, step: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await step(i);
  return performance.now() - started;
}

/** 3 — activating a tenant whose workspace does not exist yet (created from the template) with adapter-fs. */
export const fsColdActivation: Benchmark = {
  id: 3,
  title: 'Cold activation with adapter-fs (workspace created from the template)',
  floor: 'raw mkdir of the same directories + writing the same files with fs/promises (no fsync)',
  async run() {
    const template = defaultWorkspaceTemplate();
    const dir = await mkdtemp(join(tmpdir(), 'ocmt-bench-fs-'));
    const floorRoot = join(dir, 'floor');
    const adapter = createFsAdapter({ dataDir: join(dir, 'data'), template });
    const manager = new TenantManager({ ...adapter, capacity: 10_000, idleTimeoutMs: 0 });
    const floorStep = async (i: number) => {
      const root = join(floorRoot, `t${i}`);
      for (const sub of WORKSPACE_DIRECTORIES) await mkdir(join(root, sub), { recursive: true, mode: 0o700 });
      for (const [name, content] of template.files) await writeFile(join(root, name), content, { mode: 0o600 });
    };
    const oursStep = async (i: number) => (await manager.acquire(`tenant-${i}`)).release();
    // Interleave rounds so drift on a shared disk hits both alike; the first round warms up.
    const floors: number[] = [];
    const ours: number[] = [];
    const rounds = 4;
    const per = ACTIVATIONS / rounds;
    for (let round = 0; round <= rounds; round++) {
      const offset = round * per;
      const floorMs = await timed(per, (i) => floorStep(offset + i));
      const oursMs = await timed(per, (i) => oursStep(offset + i));
      if (round > 0) {
        floors.push(floorMs);
        ours.push(oursMs);
      }
    }
    await manager.close();
    await rm(dir, { recursive: true, force: true });
    const floorRate = (per * rounds * 1000) / floors.reduce((a, b) => a + b, 0);
    const oursRate = (per * rounds * 1000) / ours.reduce((a, b) => a + b, 0);
    return {
      figures: [
        { label: 'floor: mkdir + writeFile of the template', value: round(floorRate, 0), unit: 'workspaces/s' },
        { label: 'acquire + release of a new tenant (workspace from template)', value: round(oursRate, 0), unit: 'activations/s' },
        { label: 'template files', value: template.files.size, unit: '' },
      ],
      ratio: round(oursRate / floorRate),
      goal: { op: '>=', value: 0.7 },
      ratioMeaning: "our activation rate / the floor's rate",
      notes: [
        'The floor writes files with default modes and no fsync. A cold activation also does, by design: every file and',
        'directory fsynced (in parallel, so one journal commit covers them), exact 0600/0700 modes whatever the umask',
        '(a chmod each), the template manifest and an incarnation marker, assembly in a hidden staging directory renamed',
        'into place (no process ever sees a half-made workspace), plus the manager’s config read and hooks. Measured on',
        'this machine: without the fsyncs the ratio is about 0.44; the remaining gap is the chmods and the two extra files.',
        'Durability and exact permissions are requirements, so the goal is not met by that margin; the profile is I/O wait',
        '(85% idle in a CPU profile), not CPU.',
      ],
    };
  },
};
