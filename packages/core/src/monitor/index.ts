/**
 * @openclaw-mt/core/monitor — periodic samples of a manager's stats and the process, evaluated against
 * alert rules with hysteresis (one alert per episode, one resolution).
 */
export type { MonitorSample, AlertRule, AlertEvent, ActiveAlert } from './alert-rule.js';
export { type BuiltinRuleOptions, builtinRules } from './builtin-rules.js';
export { type MonitorOptions, Monitor } from './monitor.js';
export { totalUsage, type TenantUsage, type UsageTotals } from './tenant-usage.js';
export { hostMemory, parseMeminfo, defaultHostMemoryLowBytes, type HostMemory } from './host-memory.js';
