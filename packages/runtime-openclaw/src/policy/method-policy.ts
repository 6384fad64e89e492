import { createMethodPolicy, type MethodPolicyOptions } from '@openclaw-mt/gateway';

/**
 * Methods a tenant may not call on its OpenClaw gateway through the front door, by default: the
 * operator owns the cell's software, its plugin set, its process lifecycle and its exec approval
 * policy. (Writes of `gateway.*` config keys are refused by inspecting `config.*` payloads instead.)
 */
export const OPENCLAW_DENIED_METHODS: readonly string[] = [
  // Self-update of the cell (`update.run`, `update.hold`, …).
  'update.*',
  // Plugin installs and changes to the plugin set; reads (`plugins.list`, `plugins.catalog.*`, …) stay open.
  'plugins.install',
  'plugins.uninstall',
  'plugins.setEnabled',
  'plugins.reload',
  'plugins.refresh',
  // Exec approval policy of the host.
  'exec.approvals.*',
  // The onboarding wizard rewrites the whole config, gateway section included.
  'wizard.*',
  // Suspension hands the cell's state to another process: the supervisor owns the process.
  'gateway.suspend.*',
];

/** The openclaw runtime's method check: its defaults plus the operator's allow/deny lists. */
export interface OpenClawMethodPolicy {
  /** Patterns the front door refuses before a request reaches the runtime. */
  readonly denied: readonly string[];
  /** Whether a method may be forwarded to a cell. */
  allowed(method: string): boolean;
}

/** Builds the method policy of the openclaw runtime. */
export function openClawMethodPolicy(options: MethodPolicyOptions = {}): OpenClawMethodPolicy {
  const denied = [...OPENCLAW_DENIED_METHODS, ...(options.deny ?? [])];
  return { denied, allowed: createMethodPolicy(options.allow === undefined ? {} : { allow: options.allow }, denied) };
}
