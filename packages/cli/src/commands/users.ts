import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { assertTenantId } from '@openclaw-mt/core/contracts';
import { audited, localActor } from '@openclaw-mt/core/audit';
import { decodeTenantArchive, encodeTenantArchive, exportTenant, type ImportTenantResult, importTenant } from '@openclaw-mt/core/transfer';
import { isMultiTenantError, MultiTenantError, type TenantStatus, type TokenRecord } from '@openclaw-mt/core';
import { defineCommand } from 'citty';
import { adminUrlArg } from '../args/admin-args.js';
import { configArg, jsonArg } from '../args/common-args.js';
import { adminClientFor, type AdminClient, type LiveTenant } from '../context/admin-client.js';
import { costText } from '../output/cost-text.js';
import { writeFileAtomic } from '@openclaw-mt/core/helpers';
import { loadOperatorConfig } from '../context/operator-context.js';
import type { OpenedStores } from '../context/open-stores.js';
import { withStores } from '../context/with-stores.js';
import { evictInFleet } from '../context/fleet-evict.js';
import { reportsFromFleet, type NodeReport } from '../context/fleet-nodes.js';
import { ExitCodes } from '../output/exit-codes.js';
import { runAction } from '../output/output.js';

const ACTOR = () => localActor('cli');

/** Whether the gateway answered, and where it was looked for. */
type GatewayState = { reachable: true; url: string } | { reachable: false; url?: string; error: { code: string; message: string } };

/** Asks the running gateway; without `required`, an unreachable gateway is reported, not thrown. */
async function askGateway<T>(
  configPath: string | undefined,
  adminUrl: string | undefined,
  required: boolean,
  ask: (admin: AdminClient) => Promise<T>,
): Promise<{ gateway: GatewayState; answer?: T }> {
  let admin: AdminClient | undefined;
  try {
    admin = await adminClientFor((await loadOperatorConfig(configPath)).config, adminUrl);
    return { gateway: { reachable: true, url: admin.url }, answer: await ask(admin) };
  } catch (error) {
    if (required || !isMultiTenantError(error)) throw error;
    return { gateway: { reachable: false, ...(admin ? { url: admin.url } : {}), error: { code: error.code, message: error.message } } };
  }
}

async function collect(source: AsyncIterable<string> | undefined): Promise<Set<string>> {
  const out = new Set<string>();
  if (source !== undefined) for await (const id of source) out.add(id);
  return out;
}

/** Runs `work` over `items`, `limit` at a time, keeping the order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        out[index] = await work(items[index]!);
      }
    }),
  );
  return out;
}

interface StoredTenant {
  tenantId: string;
  status: TenantStatus;
  /** 0 when the tenant has no config entry of its own. */
  configVersion: number;
  workspace: boolean;
}

async function storedTenants(stores: OpenedStores): Promise<StoredTenant[]> {
  const { tokens, configs, workspaces } = stores;
  const [withConfig, withWorkspace, withTokens] = await Promise.all([
    collect(configs.capabilities.list ? configs.tenants?.() : undefined),
    collect(workspaces.capabilities.list ? workspaces.tenants?.() : undefined),
    collect(tokens.capabilities.list ? tokens.tenants?.() : undefined),
  ]);
  const ids = [...new Set([...withConfig, ...withWorkspace, ...withTokens])].sort();
  return mapLimit(ids, 16, async (tenantId) => {
    const entry = withConfig.has(tenantId) ? await configs.get(tenantId) : undefined;
    return { tenantId, status: entry?.status ?? 'active', configVersion: entry?.version ?? 0, workspace: withWorkspace.has(tenantId) };
  });
}

function liveText(tenant: { active?: boolean; pins?: number; connections?: number }): string {
  if (tenant.active === undefined) return '?';
  if (!tenant.active) return '-';
  return `active, ${tenant.connections ?? 0} connection${tenant.connections === 1 ? '' : 's'}, ${tenant.pins ?? 0} pinned`;
}

function gatewayLine(gateway: GatewayState, activeCount?: number): string {
  return gateway.reachable ? `gateway ${gateway.url}: ${activeCount ?? 0} active` : `gateway not reachable: ${gateway.error.message}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The fleet's live tenants, each with the node it is active on; unreachable nodes fail `--live`. */
function fleetAnswer(nodes: NodeReport[], required: boolean): { gateway: GatewayState; answer: Array<LiveTenant & { node: string }> } {
  const silent = nodes.filter((node) => !node.reachable);
  if (required && (nodes.length === 0 || silent.length > 0)) {
    throw new MultiTenantError(
      'BACKEND_UNAVAILABLE',
      nodes.length === 0 ? 'No node of the fleet is heartbeating.' : `Node ${silent.map((node) => node.nodeId).join(', ')} did not answer.`,
    );
  }
  const answer = nodes.flatMap((node) =>
    node.reachable ? node.tenants.map((tenant) => ({ ...tenant, active: true, node: node.nodeId })) : [],
  );
  const gateway: GatewayState =
    nodes.length === 0
      ? { reachable: false, error: { code: 'BACKEND_UNAVAILABLE', message: 'no node of the fleet is heartbeating' } }
      : { reachable: true, url: `fleet of ${nodes.length} node${nodes.length === 1 ? '' : 's'}` };
  return { gateway, answer };
}

function nodeSummary(node: NodeReport): Record<string, unknown> {
  return node.reachable
    ? { nodeId: node.nodeId, address: node.address, reachable: true, active: node.tenants.length }
    : { nodeId: node.nodeId, address: node.address, reachable: false, error: node.error };
}

function nodeLine(node: NodeReport): string {
  return node.reachable
    ? `node ${node.nodeId} (${node.address}): ${node.tenants.length} active`
    : `node ${node.nodeId} not reachable: ${node.error.message}`;
}

const list = defineCommand({
  meta: { name: 'list', description: 'Every stored tenant with status and config version, and what the running gateway has active' },
  args: {
    live: { type: 'boolean', description: 'Require the running gateway (exit 4 when it is not reachable)', default: false },
    ...adminUrlArg,
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const [stored, nodes] = await withStores(args.config, (stores, loaded) =>
        Promise.all([storedTenants(stores), reportsFromFleet(loaded, stores.coordinator)]),
      );
      // In a fleet every live node is asked; otherwise the one gateway of the config.
      const { gateway, answer: live } =
        nodes === undefined
          ? await askGateway(args.config, args['admin-url'], args.live, (admin) => admin.tenants())
          : fleetAnswer(nodes, args.live);
      const liveById = new Map((live ?? []).map((tenant) => [tenant.tenantId, tenant]));
      const tenants: Array<StoredTenant & Partial<Omit<LiveTenant, 'tenantId'>> & { node?: string }> = stored.map((tenant) => {
        const state = liveById.get(tenant.tenantId);
        liveById.delete(tenant.tenantId);
        if (!gateway.reachable) return tenant;
        return {
          ...tenant,
          active: state !== undefined,
          pins: state?.pins ?? 0,
          connections: state?.connections ?? 0,
          ...(state?.idleSince === undefined ? {} : { idleSince: state.idleSince }),
          ...(state?.node === undefined ? {} : { node: state.node }),
        };
      });
      // Active in the gateway but unknown to the stores (another store, or state not yet written).
      for (const state of liveById.values()) {
        tenants.push({
          tenantId: state.tenantId,
          status: 'active',
          configVersion: state.configVersion ?? 0,
          workspace: false,
          active: true,
          pins: state.pins,
          connections: state.connections,
          ...(state.node === undefined ? {} : { node: state.node }),
        });
      }
      output.result({ tenants, gateway, ...(nodes === undefined ? {} : { nodes: nodes.map(nodeSummary) }) }, () => {
        const header = ['TENANT', 'STATUS', 'VERSION', 'WORKSPACE', 'LIVE', ...(nodes === undefined ? [] : ['NODE'])];
        const lines =
          tenants.length === 0
            ? ['No tenants stored.']
            : [
                table([
                  header,
                  ...tenants.map((t) => [
                    t.tenantId,
                    t.status,
                    String(t.configVersion),
                    t.workspace ? 'yes' : 'no',
                    liveText(t),
                    ...(nodes === undefined ? [] : [t.node ?? '-']),
                  ]),
                ]),
              ];
        const footer = nodes === undefined ? [gatewayLine(gateway, live?.length)] : nodes.map(nodeLine);
        return [...lines, '', ...footer].join('\n');
      });
    }),
});

function tokenCounts(records: TokenRecord[] | null): Record<string, number> | null {
  if (records === null) return null;
  const counts: Record<string, number> = { total: records.length, active: 0, revoked: 0, expired: 0 };
  const now = Date.now();
  for (const record of records) {
    const status = record.status === 'active' && record.expiresAt !== undefined && record.expiresAt <= now ? 'expired' : record.status;
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/** A tenant's live state in the fleet: active on the node that reports it, else inactive everywhere. */
function fleetTenant(nodes: NodeReport[], tenantId: string): { gateway: GatewayState; answer?: LiveTenant & { node?: string } } {
  const { gateway, answer } = fleetAnswer(nodes, false);
  if (!gateway.reachable) return { gateway };
  return { gateway, answer: answer.find((tenant) => tenant.tenantId === tenantId) ?? { tenantId, active: false, pins: 0, connections: 0 } };
}

const info = defineCommand({
  meta: { name: 'info', description: "A tenant's config entry, tokens, workspace usage and live state" },
  args: { user: { type: 'positional', description: 'Tenant (user) id', required: true }, ...adminUrlArg, ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const tenantId = assertTenantId(args.user);
      const stored = await withStores(args.config, async (stores, loaded) => {
        const [config, tokens, hasWorkspace, nodes] = await Promise.all([
          stores.configs.get(tenantId),
          stores.tokens.listByTenant && stores.tokens.capabilities.list ? stores.tokens.listByTenant(tenantId) : Promise.resolve(null),
          stores.workspaces.exists(tenantId),
          reportsFromFleet(loaded, stores.coordinator),
        ]);
        let workspace: { exists: boolean; files?: number; bytes?: number } = { exists: hasWorkspace };
        if (hasWorkspace) {
          const handle = await stores.workspaces.open(tenantId);
          try {
            const files = await handle.list();
            workspace = { exists: true, files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0) };
          } finally {
            await handle.close();
          }
        }
        return { config: config ?? null, tokens: tokenCounts(tokens), workspace, nodes };
      });
      const { nodes } = stored;
      const { gateway, answer: live } =
        nodes === undefined
          ? await askGateway(args.config, args['admin-url'], false, (admin) => admin.tenant(tenantId))
          : fleetTenant(nodes, tenantId);
      const known = stored.config !== null || stored.workspace.exists || (stored.tokens?.total ?? 0) > 0 || live?.active === true;
      if (!known) throw new MultiTenantError('TENANT_UNKNOWN', `No tenant ${tenantId}: no config entry, token or workspace is stored.`);
      const { nodes: _asked, ...kept } = stored;
      const data = { tenantId, ...kept, live: live ?? null, gateway };
      output.result(data, () =>
        [
          `${tenantId}`,
          `  status:    ${stored.config?.status ?? 'active'} (config version ${stored.config?.version ?? 0})`,
          `  config:    ${stored.config === null ? '{} (no entry; operator defaults apply)' : JSON.stringify(stored.config.config)}`,
          `  tokens:    ${stored.tokens === null ? 'not listable (tokens live in the Cloud Backend)' : `${stored.tokens.total} (${stored.tokens.active} active, ${stored.tokens.revoked} revoked, ${stored.tokens.expired} expired)`}`,
          `  workspace: ${stored.workspace.exists ? `${stored.workspace.files} files, ${stored.workspace.bytes} bytes` : 'none yet (created on first connection)'}`,
          `  live:      ${live === undefined ? gatewayLine(gateway) : liveText(live)}${live?.node === undefined ? '' : ` on node ${live.node}`}`,
          ...(live?.usage === undefined ? [] : [`  costs:     ${costText(live.usage)}`]),
        ].join('\n'),
      );
    }),
});

const evict = defineCommand({
  meta: {
    name: 'evict',
    description: 'Evict a tenant from the running gateway (with --force even while connected: clients get close 1012)',
  },
  args: {
    user: { type: 'positional', description: 'Tenant (user) id', required: true },
    force: { type: 'boolean', description: 'Evict even with open connections', default: false },
    ...adminUrlArg,
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const tenantId = assertTenantId(args.user);
      // In a fleet the tenant lives on whichever node holds its lease: ask that node.
      const inFleet = await withStores(args.config, (stores, loaded) => evictInFleet(loaded, stores.coordinator, tenantId, args.force));
      if (inFleet !== undefined) {
        output.result(inFleet, () =>
          inFleet.evicted ? `Evicted ${tenantId} on node ${inFleet.node}.` : `${tenantId} is not active on any node; nothing to evict.`,
        );
        return;
      }
      const { answer } = await askGateway(args.config, args['admin-url'], true, (admin) => admin.evict(tenantId, args.force));
      output.result(answer, () => (answer!.evicted ? `Evicted ${tenantId}.` : `${tenantId} was not active; nothing to evict.`));
    }),
});

const cleanup = defineCommand({
  meta: { name: 'cleanup', description: 'Evict every idle tenant (no open connections or requests) from the running gateway' },
  args: { ...adminUrlArg, ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const { answer } = await askGateway(args.config, args['admin-url'], true, (admin) => admin.cleanup());
      output.result(answer, () => `Evicted ${answer!.evicted} idle tenant${answer!.evicted === 1 ? '' : 's'}.`);
    }),
});

function statusCommand(status: 'suspended' | 'active', name: 'suspend' | 'resume', description: string) {
  return defineCommand({
    meta: { name, description },
    args: { user: { type: 'positional', description: 'Tenant (user) id', required: true }, ...configArg, ...jsonArg },
    run: ({ args }) =>
      runAction(args.json, async (output) => {
        const tenantId = assertTenantId(args.user);
        const entry = await withStores(args.config, async (stores) => {
          const set = stores.configs.set;
          if (set === undefined || !stores.configs.capabilities.write) {
            throw new MultiTenantError(
              'NOT_SUPPORTED',
              `Config source "${stores.configs.name}" is read-only: ${name} the user where configs come from (the Cloud Backend).`,
            );
          }
          return audited(
            stores.audit,
            { actor: ACTOR(), action: `tenant.${name}`, tenantId },
            () => set.call(stores.configs, tenantId, { status }),
            (error) => output.log.warn(`Could not write the audit entry: ${(error as Error).message}`),
          );
        });
        output.result(entry, () =>
          status === 'suspended'
            ? `Suspended ${tenantId} (config version ${entry.version}); a running gateway closes its connections and refuses new ones.`
            : `Resumed ${tenantId} (config version ${entry.version}).`,
        );
      }),
  });
}

const exportCommand = defineCommand({
  meta: { name: 'export', description: "Write a tenant's workspace, config entry and token records (hashes only) to one archive" },
  args: {
    user: { type: 'positional', description: 'Tenant (user) id', required: true },
    out: { type: 'string', description: 'Archive file (default ./<user>.tenant.json.gz; "-" for stdout)', valueHint: 'file' },
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const tenantId = assertTenantId(args.user);
      const toStdout = args.out === '-';
      if (toStdout && args.json)
        throw new MultiTenantError('BAD_REQUEST', '--out - writes the archive to stdout; it cannot be combined with --json.');
      const archive = await withStores(args.config, (stores) =>
        audited(stores.audit, { actor: ACTOR(), action: 'tenant.export', tenantId }, () => exportTenant(stores, tenantId)),
      );
      const bytes = encodeTenantArchive(archive);
      const summary = {
        tenantId,
        out: toStdout ? '-' : resolve(args.out ?? `${tenantId}.tenant.json.gz`),
        bytes: bytes.byteLength,
        files: archive.workspace?.files.length ?? 0,
        config: archive.config !== null,
        tokens: archive.tokens?.length ?? null,
      };
      if (toStdout) {
        process.stdout.write(bytes);
        process.stderr.write(`Exported ${tenantId}: ${summary.files} files, ${summary.tokens ?? 0} token records.\n`);
        return;
      }
      await writeFileAtomic(summary.out, bytes);
      output.result(
        summary,
        () =>
          `Exported ${tenantId} to ${summary.out}: ${summary.files} files, ${summary.config ? 'a config entry' : 'no config entry'}, ${summary.tokens ?? 'no'} token records (hashes only).`,
      );
    }),
});

const importCommand = defineCommand({
  meta: { name: 'import', description: 'Restore a tenant from an archive (validated completely before anything is written)' },
  args: {
    file: { type: 'positional', description: 'Archive written by `users export`', required: true },
    replace: { type: 'boolean', description: 'Overwrite the tenant if the stores already hold it', default: false },
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(args.file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new MultiTenantError(code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_REQUEST', `Cannot read ${args.file} (${code ?? 'error'}).`, {
          cause: error,
        });
      }
      const archive = decodeTenantArchive(bytes);
      let result: ImportTenantResult;
      try {
        result = await withStores(args.config, (stores) =>
          audited(
            stores.audit,
            { actor: ACTOR(), action: 'tenant.import', tenantId: archive.tenantId, details: { replace: args.replace } },
            () => importTenant(stores, archive, { replace: args.replace }),
          ),
        );
      } catch (error) {
        // An existing tenant is a refusal of this input, not a transient conflict worth retrying.
        if (isMultiTenantError(error, 'CONFLICT') && error.details.reason === 'exists') {
          process.stderr.write(args.json ? `${JSON.stringify({ error: error.toJSON() })}\n` : `error: ${error.code}: ${error.message}\n`);
          return ExitCodes.invalid;
        }
        throw error;
      }
      output.result(result, () => {
        const { files, tokens } = result;
        return `${result.replaced ? 'Replaced' : 'Imported'} ${result.tenantId}: ${files.written} files written, ${files.removed} removed, ${files.unchanged} unchanged; config ${result.config}; ${tokens.created} tokens added, ${tokens.revoked} revoked. Verified.`;
      });
    }),
});

/** `openclaw-mt users …` */
export const usersCommand = defineCommand({
  meta: { name: 'users', description: 'Tenants: stored state (the stores) and live state (the running gateway)' },
  subCommands: {
    list,
    info,
    evict,
    cleanup,
    suspend: statusCommand('suspended', 'suspend', 'Suspend a tenant: it can no longer connect; a running gateway closes its connections'),
    resume: statusCommand('active', 'resume', 'Lift a suspension'),
    export: exportCommand,
    import: importCommand,
  },
});
