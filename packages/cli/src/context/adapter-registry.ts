import { hostname } from 'node:os';
import {
  loadAdapterModule,
  memoryAdapterFactory,
  type AdapterContext,
  type AdapterFactory,
  type BuiltInAdapterName,
  type OpenedAdapter,
  type OperatorConfig,
} from '@openclaw-mt/core';
import { loadWorkspaceTemplate } from '@openclaw-mt/core/contracts';

/** A built-in adapter: how to load its factory (lazily: Redis is the heaviest module the CLI could load) and its options. */
interface BuiltInAdapter {
  load(): Promise<AdapterFactory>;
  /** The factory's options, from the operator config's top-level keys. */
  options(config: OperatorConfig): Record<string, unknown>;
}

/** The adapters configuration can name by a word; any other adapter is named by its module. */
const builtInAdapters: Record<BuiltInAdapterName, BuiltInAdapter> = {
  memory: { load: async () => memoryAdapterFactory, options: () => ({}) },
  fs: {
    load: async () => (await import('@openclaw-mt/adapter-fs')).fsAdapterFactory as AdapterFactory,
    options: (config) => ({ workspaceRoot: config.workspaceRoot, configRoot: config.configRoot, tokenRoot: config.tokenRoot }),
  },
  redis: {
    load: async () => (await import('@openclaw-mt/adapter-redis')).redisAdapterFactory as AdapterFactory,
    options: (config) => ({ ...config.redis }),
  },
};

/** The factory and options the operator config names. */
export async function resolveAdapter(config: OperatorConfig): Promise<{ factory: AdapterFactory; options: Record<string, unknown> }> {
  if (typeof config.adapter === 'string') {
    const builtIn = builtInAdapters[config.adapter];
    return { factory: await builtIn.load(), options: builtIn.options(config) };
  }
  return { factory: await loadAdapterModule(config.adapter.module, config.configDir ?? process.cwd()), options: config.adapter.options };
}

/** Whether the config names an adapter by module rather than a built-in. */
export function isModuleAdapter(config: OperatorConfig): boolean {
  return typeof config.adapter === 'object';
}

/** How messages name the configured adapter: its word, or `module <specifier>`. */
export function adapterLabel(config: OperatorConfig): string {
  return typeof config.adapter === 'string' ? config.adapter : `module ${config.adapter.module}`;
}

/** Opens the adapter the operator config names, for a gateway (`serve`) or a short CLI command (`tool`). */
export async function openAdapter(config: OperatorConfig, role: AdapterContext['role']): Promise<OpenedAdapter & { description: string }> {
  const { factory, options } = await resolveAdapter(config);
  const limits = Object.fromEntries(Object.entries(config.limits).filter(([, value]) => value !== undefined));
  const context: AdapterContext = {
    dataDir: config.dataDir,
    configDir: config.configDir ?? process.cwd(),
    template: await loadWorkspaceTemplate(config.templatePath),
    ...(config.templatePath === undefined ? {} : { templatePath: config.templatePath }),
    limits,
    // Unique per process: a node's claims must never be mistaken for another's.
    nodeId: `${hostname()}-${process.pid}`,
    role,
  };
  const opened = await factory.open(options, context);
  return { ...opened, description: opened.description ?? factory.name };
}
