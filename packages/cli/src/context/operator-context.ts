import { loadConfig, type LoadedConfig } from '@openclaw-mt/core';

/** Loads the operator config from `--config`, `OPENCLAW_MT_CONFIG` or `/etc/openclaw/config.json`. */
export function loadOperatorConfig(path: string | undefined): Promise<LoadedConfig> {
  return loadConfig(path === undefined || path === '' ? {} : { path });
}
