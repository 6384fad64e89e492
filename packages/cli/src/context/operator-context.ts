import { issuesOf, loadConfig, type ConfigIssue, type ConfigSections, type LoadedConfig } from '@openclaw-mt/core';
import { parseAdminSettings, parseGatewaySettings } from '@openclaw-mt/gateway/config';
import { parseOpenClawRuntimeSettings } from '@openclaw-mt/runtime-openclaw';

/** The problems `parse` finds in `raw` (none when it parses); errors other than `CONFIG_INVALID` propagate. */
function problems(parse: () => unknown): ConfigIssue[] {
  try {
    parse();
    return [];
  } catch (error) {
    const issues = issuesOf(error);
    if (issues === undefined) throw error;
    return issues;
  }
}

/** The sections the core leaves to the gateway and runtime packages, checked in the same run as the core keys. */
const sections: ConfigSections = {
  gateway: (raw) => {
    const openclaw = (raw as { openclaw?: unknown } | undefined)?.openclaw;
    return [
      ...problems(() => parseGatewaySettings(raw)),
      ...(typeof openclaw === 'object' && openclaw !== null ? problems(() => parseOpenClawRuntimeSettings(openclaw)) : []),
    ];
  },
  admin: (raw) => problems(() => parseAdminSettings(raw)),
};

/**
 * Loads the operator config from `--config`, `OPENCLAW_MT_CONFIG` or `/etc/openclaw/config.json`,
 * with every section checked: one `CONFIG_INVALID` names every bad key.
 */
export function loadOperatorConfig(path: string | undefined): Promise<LoadedConfig> {
  return loadConfig({ ...(path === undefined || path === '' ? {} : { path }), sections });
}
