import { Bench } from 'tinybench';

/** One figure recorded for the record. */
export interface Figure {
  label: string;
  value: number;
  unit: string;
}

/** What a benchmark reports: absolute figures, the ratio to its floor, and its goal. */
export interface BenchOutcome {
  figures: Figure[];
  /** The headline ratio (target / floor, or as the benchmark defines it). */
  ratio: number;
  /** The goal the ratio is held to. */
  goal: { op: '<=' | '>='; value: number };
  /** What the ratio means, in one line. */
  ratioMeaning: string;
  notes?: string[];
}

/** A benchmark module. */
export interface Benchmark {
  id: number;
  title: string;
  floor: string;
  run(): Promise<BenchOutcome>;
}

/** Whether an outcome meets its goal. */
export function meetsGoal(outcome: BenchOutcome): boolean {
  return outcome.goal.op === '<=' ? outcome.ratio <= outcome.goal.value : outcome.ratio >= outcome.goal.value;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per-operation times of each task, one sample per round, and their medians. */
export interface NsPerOp {
  /** Median nanoseconds per operation of each task. */
  median: Record<string, number>;
  /** Nanoseconds per operation of each task, one sample per round (same order for every task). */
  rounds: Record<string, number[]>;
  /**
   * Median over the rounds of `target / floor` measured in the same round: drift on a shared machine
   * moves both sides of each pair alike, so this is steadier than a ratio of medians.
   */
  ratio(target: string, floor: string): number;
}

/**
 * Nanoseconds per operation of each function, measured by tinybench in batches of `batch` calls (so
 * sub-microsecond operations are above the timer's resolution), interleaved over `rounds` rounds
 * (the task order alternates between rounds, so no task always runs right after another).
 */
export async function nsPerOp(
  tasks: Record<string, (batch: number) => unknown | Promise<unknown>>,
  options: { batch?: number; rounds?: number; timeMs?: number } = {},
): Promise<NsPerOp> {
  const batch = options.batch ?? 1_000;
  const rounds = options.rounds ?? 11;
  const names = Object.keys(tasks);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time: options.timeMs ?? 150, warmupTime: 30 });
    for (const name of round % 2 === 0 ? names : [...names].reverse()) bench.add(name, () => tasks[name]!(batch));
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result as { period?: number; latency?: { mean: number } };
      const period = result.period ?? result.latency?.mean;
      if (period === undefined) throw new Error(`benchmark task ${task.name} produced no result`);
      samples[task.name]!.push((period * 1e6) / batch);
    }
  }
  return {
    median: Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)])),
    rounds: samples,
    ratio: (target, floor) => median(samples[target]!.map((value, i) => value / samples[floor]![i]!)),
  };
}

/** The `p`th percentile of `values` (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `target` and `floor` `count` times each, alternately, `gapMs` apart, and returns their timings.
 * Which side goes first alternates, so neither always follows the other's teardown.
 */
export async function interleaved(
  count: number,
  gapMs: number,
  target: () => Promise<number>,
  floor: () => Promise<number>,
): Promise<{ target: number[]; floor: number[] }> {
  const out = { target: [] as number[], floor: [] as number[] };
  for (let i = 0; i < count; i++) {
    for (const side of i % 2 === 0 ? (['target', 'floor'] as const) : (['floor', 'target'] as const)) {
      await pause(gapMs);
      out[side].push(await (side === 'target' ? target() : floor()));
    }
  }
  return out;
}

/** Rounds for display. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
