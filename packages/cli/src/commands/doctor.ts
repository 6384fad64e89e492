import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { checkCloudBackend, isMultiTenantError, redactText, type OperatorConfig } from '@openclaw-mt/core';
import { parseAdminSettings, parseGatewaySettings } from '@openclaw-mt/gateway';
import { defineCommand } from 'citty';
import { configArg, jsonArg } from '../args/common-args.js';
import { adminTokenPath } from '../context/admin-token.js';
import { loadOperatorConfig } from '../context/operator-context.js';
import { pingRedis } from '../context/redis-ping.js';
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
const message = (error: unknown) => redactText(isMultiTenantError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error));

/** The secret-bearing keys a config file holds. */
function secretKeys(raw: unknown): string[] {
  const block = (raw as { multiTenant?: Record<string, any> } | undefined)?.multiTenant ?? {};
  const keys: string[] = [];
  if (typeof block.serviceToken === 'string') keys.push('serviceToken');
  if (Array.isArray(block.peppers) && block.peppers.length > 0) keys.push('peppers');
  if (typeof block.admin?.token === 'string') keys.push('admin.token');
  if (typeof block.redis?.url === 'string' && /\/\/[^/@]*:[^/@]+@/.test(block.redis.url)) keys.push('redis.url (password)');
  return keys;
}

async function checkConfigFile(path: string): Promise<DoctorCheck> {
  const info = await stat(path);
  const raw = JSON.parse(await readFile(path, 'utf8')) as unknown;
  const secrets = secretKeys(raw);
  if ((info.mode & 0o002) !== 0) return { id: 'config.permissions', status: 'fail', reason: `${path} is world-writable (mode ${octal(info.mode)}): chmod 600 ${path}` };
  if (secrets.length > 0 && (info.mode & 0o077) !== 0) {
    return { id: 'config.permissions', status: 'fail', reason: `${path} holds secrets (${secrets.join(', ')}) but is readable by group or others (mode ${octal(info.mode)}): chmod 600 ${path}, or move the secrets to the environment` };
  }
  return { id: 'config.permissions', status: 'pass', reason: secrets.length > 0 ? `mode ${octal(info.mode)}, private to its owner` : `mode ${octal(info.mode)}; it holds no secrets` };
}

async function checkRoot(id: string, path: string): Promise<DoctorCheck> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    return info.code === 'ENOENT'
      ? { id, status: 'warn', reason: `${path} does not exist yet (serve creates it with mode 0700)` }
      : { id, status: 'fail', reason: `${path}: ${info.code ?? info.message}` };
  }
  if (!info.isDirectory()) return { id, status: 'fail', reason: `${path} is not a directory` };
  if ((info.mode & 0o077) !== 0) return { id, status: 'fail', reason: `${path} has mode ${octal(info.mode)}; tenant data must be private: chmod 700 ${path}` };
  return { id, status: 'pass', reason: `${path} is 0700` };
}

async function checkRoots(config: OperatorConfig): Promise<DoctorCheck[]> {
  if (config.adapter === 'memory') return [];
  const roots: Array<[string, string]> = [['roots.dataDir', config.dataDir]];
  if (config.adapter === 'fs') {
    roots.push(['roots.workspaceRoot', config.workspaceRoot], ['roots.configRoot', config.configRoot], ['roots.tokenRoot', config.tokenRoot], ['roots.audit', join(config.dataDir, 'audit')]);
  } else {
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

async function checkBackend(config: OperatorConfig): Promise<DoctorCheck | undefined> {
  if (!config.enabled || config.cloudBackendUrl === undefined || config.serviceToken === undefined) return undefined;
  try {
    // Without test tokens: reachability, the service token and the config feed's contract.
    const report = await checkCloudBackend({ url: config.cloudBackendUrl, serviceToken: config.serviceToken, timeoutMs: 5_000 });
    if (report.ok) return { id: 'backend', status: 'pass', reason: `${report.url} meets contract v${report.contractVersion} (${report.summary.passed} points passed, ${report.summary.skipped} need test tokens: run \`backend check\`)` };
    const failed = report.points.filter((point) => point.status === 'fail');
    return { id: 'backend', status: 'fail', reason: `${report.url}: ${failed.length} contract points failed: ${failed.slice(0, 3).map((point) => `${point.id} (${point.reason})`).join('; ')}` };
  } catch (error) {
    return { id: 'backend', status: 'fail', reason: message(error) };
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
  );
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
    const response = await fetch(`http://${target.includes(':') ? `[${target}]` : target}:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
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
    return (await answersHealthz(host, port))
      ? { id, status: 'pass', reason: `${host}:${port} is in use by a running gateway (its /healthz answers)` }
      : { id, status: 'fail', reason: `${host}:${port} is in use by another process` };
  }
  return { id, status: 'fail', reason: `cannot listen on ${host}:${port} (${outcome})` };
}

async function checkPorts(config: OperatorConfig): Promise<DoctorCheck[]> {
  const checks: Array<Promise<DoctorCheck | undefined>> = [];
  try {
    const gateway = parseGatewaySettings(config.gateway);
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

async function runChecks(configPath: string | undefined): Promise<DoctorCheck[]> {
  let loaded;
  try {
    loaded = await loadOperatorConfig(configPath);
  } catch (error) {
    return [{ id: 'config', status: 'fail', reason: message(error) }];
  }
  const { config, path } = loaded;
  const checks: DoctorCheck[] = [
    path === undefined
      ? { id: 'config', status: 'warn', reason: 'no config file found; using the embedded defaults (fs adapter under ./.openclaw-mt)' }
      : { id: 'config', status: 'pass', reason: `${path} is readable and valid (adapter ${config.adapter})` },
  ];
  if (path !== undefined) checks.push(await checkConfigFile(path).catch((error: unknown): DoctorCheck => ({ id: 'config.permissions', status: 'fail', reason: message(error) })));
  const groups = await Promise.all([checkRoots(config), checkBackend(config).then((check) => (check ? [check] : [])), checkRedis(config), checkPorts(config)]);
  return [...checks, ...groups.flat()];
}

const MARK: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

/** `openclaw-mt doctor` */
export const doctorCommand = defineCommand({
  meta: { name: 'doctor', description: 'Check the config file, directory permissions, Cloud Backend, Redis and ports; exit 5 when a check fails' },
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
