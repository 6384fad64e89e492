import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { checkCloudBackend } from '@openclaw-mt/core/cloud';
import { effectiveTokenFormats, isMultiTenantError, type LoadedConfig, type OperatorConfig } from '@openclaw-mt/core';
import { redactText } from '@openclaw-mt/core/tokens';
import { parseAdminSettings, parseGatewaySettings } from '@openclaw-mt/gateway/config';
import { parseOpenClawRuntimeSettings, sandboxSupport } from '@openclaw-mt/runtime-openclaw';
import { defineCommand } from 'citty';
import { configArg, jsonArg } from '../args/common-args.js';
import { adminTokenPath } from '../context/admin-token.js';
import { adapterLabel, isModuleAdapter, openAdapter } from '../context/adapter-registry.js';
import { backendFindings } from '../context/backend-findings.js';
import { operatorProviders } from '../context/model-endpoint.js';
import { loadOperatorConfig } from '../context/operator-context.js';
import { pingRedis } from '../context/redis-ping.js';
import { redisSettings } from '../context/redis-settings.js';
import { ExitCodes } from '../output/exit-codes.js';
import { runAction } from '../output/output.js';

/** The verdict of one check. */
type CheckStatus = 'pass' | 'warn' | 'fail';

interface DoctorCheck {
  id: string;
  status: CheckStatus;
  reason: string;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;
const message = (error: unknown) =>
  redactText(isMultiTenantError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error));

/** The parts of a raw (unvalidated) `multiTenant` block that can hold a secret. */
interface SecretFields {
  serviceToken?: unknown;
  peppers?: unknown;
  admin?: { token?: unknown };
  redis?: { url?: unknown };
  cloud?: { push?: { secrets?: unknown } };
}

/** The secret-bearing keys a config file holds. */
function secretKeys(raw: unknown): string[] {
  const block: SecretFields = (raw as { multiTenant?: SecretFields } | undefined)?.multiTenant ?? {};
  const keys: string[] = [];
  if (typeof block.serviceToken === 'string') keys.push('serviceToken');
  if (Array.isArray(block.peppers) && block.peppers.length > 0) keys.push('peppers');
  if (typeof block.admin?.token === 'string') keys.push('admin.token');
  if (Array.isArray(block.cloud?.push?.secrets) && block.cloud.push.secrets.length > 0) keys.push('cloud.push.secrets');
  if (typeof block.redis?.url === 'string' && /\/\/[^/@]*:[^/@]+@/.test(block.redis.url)) keys.push('redis.url (password)');
  return keys;
}

async function checkConfigFile(path: string): Promise<DoctorCheck> {
  const info = await stat(path);
  const raw = JSON.parse(await readFile(path, 'utf8')) as unknown;
  const secrets = secretKeys(raw);
  if ((info.mode & 0o002) !== 0)
    return { id: 'config.permissions', status: 'fail', reason: `${path} is world-writable (mode ${octal(info.mode)}): chmod 600 ${path}` };
  if (secrets.length > 0 && (info.mode & 0o077) !== 0) {
    return {
      id: 'config.permissions',
      status: 'fail',
      reason: `${path} holds secrets (${secrets.join(', ')}) but is readable by group or others (mode ${octal(info.mode)}): chmod 600 ${path}, or move the secrets to the environment`,
    };
  }
  return {
    id: 'config.permissions',
    status: 'pass',
    reason: secrets.length > 0 ? `mode ${octal(info.mode)}, private to its owner` : `mode ${octal(info.mode)}; it holds no secrets`,
  };
}

async function checkRoot(id: string, path: string): Promise<DoctorCheck> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    return info.code === 'ENOENT'
      ? { id, status: 'warn', reason: `${path} does not exist yet (serve creates it with mode 0700)` }
      : { id, status: 'fail', reason: `${path}: ${info.code ?? info.message}` };
  }
  if (!info.isDirectory()) return { id, status: 'fail', reason: `${path} is not a directory` };
  if ((info.mode & 0o077) !== 0)
    return { id, status: 'fail', reason: `${path} has mode ${octal(info.mode)}; tenant data must be private: chmod 700 ${path}` };
  return { id, status: 'pass', reason: `${path} is 0700` };
}

async function checkRoots(config: OperatorConfig): Promise<DoctorCheck[]> {
  if (config.adapter === 'memory') return [];
  const roots: Array<[string, string]> = [['roots.dataDir', config.dataDir]];
  if (config.adapter === 'fs') {
    roots.push(
      ['roots.workspaceRoot', config.workspaceRoot],
      ['roots.configRoot', config.configRoot],
      ['roots.tokenRoot', config.tokenRoot],
      ['roots.audit', join(config.dataDir, 'audit')],
    );
  } else if (config.adapter === 'redis') {
    roots.push(['roots.nodeWorkspaces', join(config.dataDir, 'node-workspaces')]);
  }
  const seen = new Set<string>();
  const checks = await Promise.all(roots.filter(([, path]) => !seen.has(path) && seen.add(path)).map(([id, path]) => checkRoot(id, path)));
  const tokenFile = adminTokenPath(config);
  const info = await stat(tokenFile).catch(() => undefined);
  if (info !== undefined) {
    checks.push(
      (info.mode & 0o077) === 0
        ? { id: 'roots.adminToken', status: 'pass', reason: `${tokenFile} is ${octal(info.mode)}` }
        : { id: 'roots.adminToken', status: 'fail', reason: `${tokenFile} has mode ${octal(info.mode)}: chmod 600 ${tokenFile}` },
    );
  }
  return checks;
}

/** Plain http to another host, the fork's dialect, timeouts that outlast the handshake. */
function checkBackendSetup(config: OperatorConfig): DoctorCheck[] {
  let handshakeTimeoutMs: number | undefined;
  try {
    handshakeTimeoutMs = parseGatewaySettings(config.gateway).handshakeTimeoutMs;
  } catch {
    // Reported by ports.gateway.
  }
  return backendFindings(config, handshakeTimeoutMs).map((finding) => ({
    id: finding.id,
    status: finding.level === 'error' ? 'fail' : 'warn',
    reason: finding.message,
  }));
}

async function checkBackend(config: OperatorConfig): Promise<DoctorCheck | undefined> {
  if (!config.enabled || config.cloudBackendUrl === undefined || config.serviceToken === undefined) return undefined;
  try {
    // Without test tokens: reachability, the service token and the config feed's contract, in the configured dialect.
    const report = await checkCloudBackend({
      url: config.cloudBackendUrl,
      serviceToken: config.serviceToken,
      dialect: config.cloud.dialect,
      ...(config.cloud.pathPrefix === undefined ? {} : { pathPrefix: config.cloud.pathPrefix }),
      tokenFormats: effectiveTokenFormats(config),
      timeoutMs: 5_000,
    });
    if (report.ok)
      return {
        id: 'backend',
        status: 'pass',
        reason: `${report.url} works with contract v${report.contractVersion} in the ${report.dialect} dialect (${report.summary.passed} points passed, ${report.summary.unsupported} not supported by this backend, ${report.summary.skipped} skipped: run \`backend check\` with test tokens)`,
      };
    const failed = report.points.filter((point) => point.status === 'fail');
    return {
      id: 'backend',
      status: 'fail',
      reason: `${report.url}: ${failed.length} contract points failed: ${failed
        .slice(0, 3)
        .map((point) => `${point.id} (${point.reason})`)
        .join('; ')}${report.hints.length > 0 ? `. Hint: ${report.hints.join(' ')}` : ''}`,
    };
  } catch (error) {
    return { id: 'backend', status: 'fail', reason: message(error) };
  }
}

/**
 * An adapter named by module: it loads, opens, and passes its own `check()`. Opening it is how doctor finds
 * a wrong export, bad options or an unreachable backend; the built-ins have their checks above.
 */
async function checkModuleAdapter(config: OperatorConfig): Promise<DoctorCheck[]> {
  if (!isModuleAdapter(config)) return [];
  let adapter: Awaited<ReturnType<typeof openAdapter>>;
  try {
    adapter = await openAdapter(config, 'tool');
  } catch (error) {
    return [{ id: 'adapter', status: 'fail', reason: message(error) }];
  }
  try {
    const findings = (await adapter.check?.()) ?? [];
    return [
      { id: 'adapter', status: 'pass', reason: `${adapter.description} opened` },
      ...findings.map((finding) => ({ id: `adapter.${finding.id}`, status: finding.status, reason: redactText(finding.reason) })),
    ];
  } catch (error) {
    return [{ id: 'adapter', status: 'fail', reason: `${adapter.description}: check() failed: ${message(error)}` }];
  } finally {
    await adapter.close().catch(() => undefined);
  }
}

async function checkRedis(config: OperatorConfig): Promise<DoctorCheck[]> {
  if (config.adapter !== 'redis') return [];
  const targets = config.redis?.cluster ?? [config.redis?.url ?? 'redis://127.0.0.1:6379'];
  return Promise.all(
    targets.map(async (target, index): Promise<DoctorCheck> => {
      const id = targets.length > 1 ? `redis.${index}` : 'redis';
      const shown = redactText(target.replace(/\/\/([^/@]*):[^/@]+@/, '//$1:***@'));
      try {
        const ms = await pingRedis(target);
        return { id, status: 'pass', reason: `${shown} answered PING in ${ms.toFixed(1)} ms` };
      } catch (error) {
        return { id, status: 'fail', reason: `${shown} is not reachable: ${message(error)}` };
      }
    }),
  ).then(async (reachability) => {
    if (reachability.some((check) => check.status === 'fail')) return reachability;
    const settings = await Promise.all(
      targets.map((target, index) => checkRedisSettings(target, targets.length > 1 ? `redis.${index}` : 'redis')),
    );
    return [...reachability, ...settings.flat()];
  });
}

/**
 * Durability settings: an acknowledged write (a token, a revocation, a workspace file) must survive a
 * Redis restart, which takes AOF fsynced at least every second; a Cluster must keep answering the slots it
 * still covers when one shard is down.
 */
async function checkRedisSettings(target: string, id: string): Promise<DoctorCheck[]> {
  let settings: Map<string, string>;
  try {
    settings = await redisSettings(target, ['appendonly', 'appendfsync', 'save', 'cluster-enabled', 'cluster-require-full-coverage']);
  } catch (error) {
    return [{ id: `${id}.persistence`, status: 'warn', reason: `could not read the server settings: ${message(error)}` }];
  }
  const checks: DoctorCheck[] = [];
  const appendonly = settings.get('appendonly');
  const fsync = settings.get('appendfsync');
  if (appendonly === undefined) {
    checks.push({
      id: `${id}.persistence`,
      status: 'warn',
      reason: 'CONFIG GET is not allowed here; make sure the server runs with appendonly yes and appendfsync everysec or always',
    });
  } else if (appendonly !== 'yes') {
    const rdb = (settings.get('save') ?? '') !== '';
    checks.push({
      id: `${id}.persistence`,
      status: 'warn',
      reason: `${rdb ? 'RDB snapshots only' : 'no persistence'}: a restart loses ${rdb ? 'every write since the last snapshot' : 'everything'} (tokens, revocations, workspaces); set appendonly yes and appendfsync everysec (or always)`,
    });
  } else if (fsync === 'no') {
    checks.push({
      id: `${id}.persistence`,
      status: 'warn',
      reason: 'AOF with appendfsync no: the OS decides when writes reach disk; set appendfsync everysec (or always)',
    });
  } else {
    checks.push({ id: `${id}.persistence`, status: 'pass', reason: `AOF on, appendfsync ${fsync}` });
  }
  if (settings.get('cluster-enabled') === 'yes' && settings.get('cluster-require-full-coverage') !== 'no') {
    checks.push({
      id: `${id}.cluster`,
      status: 'warn',
      reason:
        'cluster-require-full-coverage yes: one shard down stops every tenant, not only those on its slots; set cluster-require-full-coverage no',
    });
  }
  return checks;
}

/** Whether a port can be bound: `free`, `in-use` or another error code. */
function tryBind(host: string, port: number): Promise<'free' | string> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE' ? 'in-use' : (error.code ?? error.message)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

async function answersHealthz(host: string, port: number): Promise<boolean> {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  try {
    const response = await fetch(`http://${target.includes(':') ? `[${target}]` : target}:${port}/healthz`, {
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await response.json()) as { ok?: unknown };
    return response.ok && body.ok === true;
  } catch {
    return false;
  }
}

async function checkPort(id: string, host: string, port: number): Promise<DoctorCheck | undefined> {
  if (port === 0) return undefined;
  const outcome = await tryBind(host, port);
  if (outcome === 'free') return { id, status: 'pass', reason: `${host}:${port} is free` };
  if (outcome === 'in-use') {
    // `serve` could not bind it either, whoever holds it: a failure, with who holds it when we can tell.
    return (await answersHealthz(host, port))
      ? { id, status: 'fail', reason: `${host}:${port} is in use by a running gateway (its /healthz answers): stop it before \`serve\`` }
      : { id, status: 'fail', reason: `${host}:${port} is in use by another process` };
  }
  return { id, status: 'fail', reason: `cannot listen on ${host}:${port} (${outcome})` };
}

async function checkPorts(config: OperatorConfig): Promise<DoctorCheck[]> {
  const checks: Array<Promise<DoctorCheck | undefined>> = [];
  try {
    const gateway = parseGatewaySettings(config.gateway);
    parseOpenClawRuntimeSettings(gateway.openclaw);
    checks.push(checkPort('ports.gateway', gateway.bind, gateway.port));
  } catch (error) {
    checks.push(Promise.resolve({ id: 'ports.gateway', status: 'fail', reason: message(error) }));
  }
  try {
    const admin = parseAdminSettings(config.admin);
    if (admin.enabled) checks.push(checkPort('ports.admin', admin.bind, admin.port));
  } catch (error) {
    checks.push(Promise.resolve({ id: 'ports.admin', status: 'fail', reason: message(error) }));
  }
  return (await Promise.all(checks)).filter((check): check is DoctorCheck => check !== undefined);
}

/**
 * The cell sandbox and the model gateway of the openclaw runtime: whether this host can run cells in
 * namespaces (serve refuses to start cells otherwise, unless the operator opted out) and whether every
 * provider key the model gateway needs is there. Reported whichever runtime is configured; a failure
 * counts only when the openclaw runtime is the one `serve` would run.
 */
function checkCells(config: OperatorConfig): DoctorCheck[] {
  let runtime: string;
  let settings: ReturnType<typeof parseOpenClawRuntimeSettings>;
  try {
    const gateway = parseGatewaySettings(config.gateway);
    runtime = gateway.runtime;
    settings = parseOpenClawRuntimeSettings(gateway.openclaw);
  } catch {
    return []; // reported by the ports check
  }
  const failing: CheckStatus = runtime === 'openclaw' ? 'fail' : 'warn';
  const checks: DoctorCheck[] = [];
  if (settings.sandbox === false) {
    checks.push({
      id: 'cells.sandbox',
      status: 'warn',
      reason: 'off (sandbox: false): every OpenClaw cell sees the host file system, processes and network',
    });
  } else {
    const support = sandboxSupport();
    checks.push(
      support.available
        ? {
            id: 'cells.sandbox',
            status: 'pass',
            reason: `bubblewrap (${support.bwrapPath}) starts mount, PID, network, IPC and UTS namespaces; egress ${settings.egress ?? 'none'}`,
          }
        : {
            id: 'cells.sandbox',
            status: failing,
            reason: `cells cannot be sandboxed: ${support.reason}; serve refuses to start OpenClaw cells (set multiTenant.gateway.openclaw.sandbox to false to opt out)`,
          },
    );
  }
  if (settings.models === undefined) {
    if (runtime === 'openclaw')
      checks.push({
        id: 'cells.models',
        status: 'warn',
        reason:
          'no model gateway (multiTenant.gateway.openclaw.models): provider keys in the cells’ config or environment are readable by tenants',
      });
  } else {
    try {
      const providers = operatorProviders(settings.models);
      checks.push({
        id: 'cells.models',
        status: 'pass',
        reason: `model gateway with ${Object.keys(providers).join(', ') || 'no'} provider(s)`,
      });
    } catch (error) {
      checks.push({ id: 'cells.models', status: failing, reason: message(error) });
    }
  }
  return checks;
}

async function runChecks(configPath: string | undefined): Promise<DoctorCheck[]> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadOperatorConfig(configPath);
  } catch (error) {
    return [{ id: 'config', status: 'fail', reason: message(error) }];
  }
  const { config, path } = loaded;
  const checks: DoctorCheck[] = [
    path === undefined
      ? { id: 'config', status: 'warn', reason: 'no config file found; using the embedded defaults (fs adapter under ./.openclaw-mt)' }
      : { id: 'config', status: 'pass', reason: `${path} is readable and valid (adapter ${adapterLabel(config)})` },
  ];
  if (path !== undefined)
    checks.push(
      await checkConfigFile(path).catch(
        (error: unknown): DoctorCheck => ({ id: 'config.permissions', status: 'fail', reason: message(error) }),
      ),
    );
  checks.push(...checkBackendSetup(config));
  checks.push(...checkCells(config));
  const groups = await Promise.all([
    checkRoots(config),
    checkBackend(config).then((check) => (check ? [check] : [])),
    checkRedis(config),
    checkModuleAdapter(config),
    checkPorts(config),
  ]);
  return [...checks, ...groups.flat()];
}

const MARK: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

/** `openclaw-mt doctor` */
export const doctorCommand = defineCommand({
  meta: {
    name: 'doctor',
    description: 'Check the config file, directory permissions, Cloud Backend, Redis and ports; exit 5 when a check fails',
  },
  args: { ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const checks = await runChecks(args.config);
      const summary = { pass: 0, warn: 0, fail: 0 };
      for (const check of checks) summary[check.status]++;
      const ok = summary.fail === 0;
      output.result({ ok, checks, summary }, () =>
        [
          ...checks.map((check) => `${MARK[check.status]}  ${check.id.padEnd(20)} ${check.reason}`),
          '',
          `${summary.pass} passed, ${summary.warn} warnings, ${summary.fail} failed`,
        ].join('\n'),
      );
      return ok ? ExitCodes.ok : ExitCodes.checkFailed;
    }),
});
