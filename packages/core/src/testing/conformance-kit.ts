import type { ConfigSource } from '../contracts/config-source.js';
import type { Coordinator } from '../contracts/coordinator.js';
import type { AuditLog } from '../contracts/audit-log.js';
import type { TokenStore } from '../contracts/token-store.js';
import type { WorkspaceLimits, WorkspaceStore } from '../contracts/workspace-store.js';
import type { WorkspaceTemplate } from '../workspace/workspace-template.js';

/**
 * The test functions of whatever runner you use (Vitest, Jest, `node:test`, Mocha). Assertions are
 * made with `node:assert`, so the kit needs nothing else from the runner.
 */
export interface ConformanceRunner {
  describe(name: string, body: () => void): void;
  /** Registers a test; the body receives whatever context the runner passes (Vitest's and `node:test`'s are used for skips). */
  test(name: string, body: (context?: unknown) => Promise<void>, timeoutMs?: number): void;
  /**
   * Marks the running test as skipped, for cases the adapter's capability flags rule out. Defaults to
   * calling `context.skip(reason)` when the runner's context has it (Vitest, `node:test`); otherwise
   * such cases pass without running.
   */
  skip?(context: unknown, reason: string): void;
}

/** What the kit asks the factory for. */
export interface ConformanceContext {
  /**
   * A storage namespace unique to one test. Two `create` calls with the same namespace must see the
   * same data (like reopening a directory or a key prefix), so the kit can test persistence.
   */
  namespace: string;
  /** The template new workspaces must be created from. */
  template: WorkspaceTemplate;
  /** The limits the workspace store must enforce. */
  limits: WorkspaceLimits;
  /** A node id, for coordinators (the kit uses two nodes on one namespace). */
  nodeId: string;
}

/** The stores under test; leave out a contract the adapter does not implement. */
export interface AdapterUnderTest {
  tokens?: TokenStore;
  configs?: ConfigSource;
  workspaces?: WorkspaceStore;
  coordinator?: Coordinator;
  audit?: AuditLog;
  /**
   * Makes the backend unreachable for the rest of the test (stop a server, hold a lock past the busy
   * timeout…), so the kit can check that outages are reported as `BACKEND_UNAVAILABLE`. Leave it out
   * when the adapter cannot simulate one; the outage case is then skipped.
   */
  outage?(): Promise<void>;
  /** Runs after each test, after the stores were closed (delete temp dirs, keys…). */
  cleanup?(): Promise<void>;
}

/** Options of {@link runAdapterConformance}. */
export interface ConformanceOptions {
  /** Shown in the suite name. */
  name: string;
  runner: ConformanceRunner;
  /** Builds stores for one test. Called once or more per test (see {@link ConformanceContext.namespace}). */
  create(context: ConformanceContext): Promise<AdapterUnderTest>;
  /**
   * Case names to skip on top of those the capability flags rule out; they are reported as skipped
   * (through the runner's skip) so a report shows what was left out.
   */
  skip?: readonly string[];
  /** Per-case timeout passed to the runner (default 30 s). */
  timeoutMs?: number;
}

/** One conformance case: a name, the capabilities it needs, and its body. */
export interface ConformanceCase {
  name: string;
  /** Returns a reason to skip when the adapter lacks what the case needs. */
  requires?(adapter: AdapterUnderTest): string | undefined;
  run(harness: Harness): Promise<void>;
}

/** What a case body gets: the stores of this test and a way to open the same namespace again. */
export interface Harness {
  adapter: AdapterUnderTest;
  context: ConformanceContext;
  /** Builds a second adapter over the same namespace (closed automatically after the test). */
  reopen(overrides?: Partial<Omit<ConformanceContext, 'namespace'>>): Promise<AdapterUnderTest>;
}
