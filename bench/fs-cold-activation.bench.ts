import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createFsAdapter } from '@openclaw-mt/adapter-fs';
import { defaultWorkspaceTemplate, WORKSPACE_DIRECTORIES } from '@openclaw-mt/core/contracts';
import { TenantManager } from '@openclaw-mt/core';
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
    // The cheapest crash-safe way to make the same files: each file and directory fsynced, in parallel.
    const durableRoot = join(dir, 'durable');
    await mkdir(durableRoot);
    const fsync = async (path: string, flags: number) => {
      const handle = await open(path, flags);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    };
    const durableStep = async (i: number) => {
      const root = join(durableRoot, `t${i}`);
      const dirs = [root, ...new Set([...WORKSPACE_DIRECTORIES, ...[...template.files.keys()].map(dirname)].map((sub) => join(root, sub)))];
      for (const sub of dirs) await mkdir(sub, { recursive: true, mode: 0o700 });
      await Promise.all([...template.files].map(([name, content]) => writeFile(join(root, name), content, { mode: 0o600, flush: true })));
      await Promise.all(dirs.map((sub) => fsync(sub, constants.O_RDONLY | constants.O_DIRECTORY)));
      await fsync(durableRoot, constants.O_RDONLY | constants.O_DIRECTORY);
    };
    const oursStep = async (i: number) => (await manager.acquire(`tenant-${i}`)).release();
    // Interleave rounds so drift on a shared disk hits both alike; the first round warms up.
    const floors: number[] = [];
    const durables: number[] = [];
    const ours: number[] = [];
    const rounds = 4;
    const per = ACTIVATIONS / rounds;
    for (let round = 0; round <= rounds; round++) {
      const offset = round * per;
      const floorMs = await timed(per, (i) => floorStep(offset + i));
      const durableMs = await timed(per, (i) => durableStep(offset + i));
      const oursMs = await timed(per, (i) => oursStep(offset + i));
      if (round > 0) {
        floors.push(floorMs);
        durables.push(durableMs);
        ours.push(oursMs);
      }
    }
    await manager.close();
    await rm(dir, { recursive: true, force: true });
    const rate = (times: number[]) => (per * rounds * 1000) / times.reduce((a, b) => a + b, 0);
    const floorRate = rate(floors);
    const durableRate = rate(durables);
    const oursRate = rate(ours);
    return {
      figures: [
        { label: 'floor: mkdir + writeFile of the template', value: round(floorRate, 0), unit: 'workspaces/s' },
        {
          label: 'reference: the same files and directories made crash-safe (each fsynced, in parallel)',
          value: round(durableRate, 0),
          unit: 'workspaces/s',
        },
        { label: 'acquire + release of a new tenant (workspace from template)', value: round(oursRate, 0), unit: 'activations/s' },
        { label: 'our rate / the crash-safe reference', value: round(oursRate / durableRate), unit: '×' },
        { label: 'template files', value: template.files.size, unit: '' },
      ],
      ratio: round(oursRate / floorRate),
      goal: { op: '>=', value: 0.7 },
      ratioMeaning: "our activation rate / the floor's rate",
      notes: [
        'The floor writes files with default modes and no fsync. A cold activation must survive a crash, so it also',
        'fsyncs every file and directory (in parallel), writes the template manifest and an incarnation marker, and',
        'assembles the tree in a hidden staging directory renamed into place (no process ever sees a half-made',
        'workspace); modes are exact (0600/0700) without a chmod each unless the umask clears owner bits. An strace of',
        '100 activations shows per activation: 10 files (open, write, fsync, close), 7 directory fsyncs, the mkdirs, one',
        'rename, one fsync of the parent: nothing else. fsync is what costs: the crash-safe reference row makes the same',
        `files with raw fs/promises and fsyncs them the same way, and reaches only ${round(durableRate / floorRate)}× of the floor; a`,
        `cold activation runs at ${round(oursRate / durableRate)}× of that reference. The goal of 0.7 is not met, by`,
        `${round(0.7 - oursRate / floorRate)}: it cannot be met by any implementation that fsyncs on this disk, and durability is a requirement.`,
      ],
    };
  },
};
