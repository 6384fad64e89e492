import type { Reporter, TestModule, TestSpecification, Vitest } from 'vitest/node';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * A Vitest reporter beside the default one: says what the run covers before it starts (projects, files,
 * workers) and, at the end, how long each project took and which ten tests were slowest, so a CI log
 * shows where the time goes.
 */
export default class TimingReporter implements Reporter {
  private vitest: Vitest | undefined;
  private started = 0;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.started = performance.now();
    const files = new Map<string, Set<string>>();
    for (const spec of specifications) {
      const project = spec.project.name || 'root';
      if (!files.has(project)) files.set(project, new Set());
      files.get(project)!.add(spec.moduleId);
    }
    const projects = [...files].map(([name, modules]) => `${name} (${modules.size})`).join(', ');
    const total = [...files.values()].reduce((sum, modules) => sum + modules.size, 0);
    const workers = this.vitest?.config.maxWorkers;
    this.print(`Running ${total} test files${workers === undefined ? '' : ` on ${workers} workers`}: ${projects}`);
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (testModules.length === 0) return;
    const root = this.vitest?.config.root ?? process.cwd();
    const relative = (path: string) => (path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path);

    const perProject = new Map<string, number>();
    for (const module of testModules) {
      const name = module.project.name || 'root';
      perProject.set(name, (perProject.get(name) ?? 0) + module.diagnostic().duration);
    }
    const tests = testModules.flatMap((module) =>
      [...module.children.allTests()].map((test) => ({
        name: `${relative(module.moduleId)} › ${test.fullName}`,
        duration: test.diagnostic()?.duration ?? 0,
      })),
    );
    tests.sort((a, b) => b.duration - a.duration);

    const lines = [
      '',
      `Time per project (test files summed; files run in parallel): ${[...perProject]
        .sort((a, b) => b[1] - a[1])
        .map(([name, ms]) => `${name} ${seconds(ms)}`)
        .join(', ')}`,
      'Ten slowest tests:',
      ...tests.slice(0, 10).map((test) => `  ${seconds(test.duration).padStart(7)}  ${test.name}`),
      `Wall time: ${seconds(performance.now() - this.started)}`,
    ];
    this.print(lines.join('\n'));
  }

  private print(text: string): void {
    process.stdout.write(`${text}\n`);
  }
}
