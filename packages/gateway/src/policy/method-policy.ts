/** Which methods tenants may call: patterns are exact names or prefixes ending in `*` (`config.*`). */
export interface MethodPolicyOptions {
  /** When given, only matching methods are allowed. */
  allow?: readonly string[];
  /** Matching methods are refused; deny wins over allow. */
  deny?: readonly string[];
}

function matcher(patterns: readonly string[]): (method: string) => boolean {
  const exact = new Set(patterns.filter((pattern) => !pattern.endsWith('*')));
  const prefixes = patterns.filter((pattern) => pattern.endsWith('*')).map((pattern) => pattern.slice(0, -1));
  return (method) => exact.has(method) || prefixes.some((prefix) => method.startsWith(prefix));
}

/**
 * Builds the front door's method check from the operator's policy and the runtime's own default
 * denials. Returns whether a method may be called.
 */
export function createMethodPolicy(options: MethodPolicyOptions = {}, runtimeDenied: readonly string[] = []): (method: string) => boolean {
  const denied = matcher([...runtimeDenied, ...(options.deny ?? [])]);
  const allowed = options.allow === undefined ? () => true : matcher(options.allow);
  return (method) => allowed(method) && !denied(method);
}
