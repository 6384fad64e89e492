import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { ControlUiAssets } from './control-ui-assets.js';

/**
 * When signing in fails, the Control UI lists steps to take, some of them commands to run on the gateway's host
 * (`openclaw dashboard --no-open`, `openclaw gateway auth-token --show`, `openclaw doctor …`). A person signing in
 * to a hosted OpenClaw has no such host, so the front door serves the UI without those steps and keeps the ones
 * anyone can follow (replace the secret, check the URL, connect again). In the bundle each such step is an object
 * literal in a list of steps: `{key:`login.failure.<kind>.<step>`,commands:[…]}`.
 */
const HOST_COMMAND_STEP = /\{key:`login\.failure\.\w+\.\w+`,commands:\[[^\]]*\]\},?/g;
const MARKER = 'login.failure.';

/** `source` without its host-command steps, or `undefined` when it has none (a trailing comma left in a list is valid). */
export function withoutHostCommandSteps(source: string): string | undefined {
  const rewritten = source.replace(HOST_COMMAND_STEP, '');
  return rewritten === source ? undefined : rewritten;
}

/**
 * Rewrites, in memory, the bundle's scripts that hold host-command steps (read once; the files stay as installed):
 * such a script is then served from memory, gzipped by the front door, without the bundle's pre-compressed copies
 * of the original. A release that words its steps differently is left as it is.
 */
export async function removeHostCommandSteps(assets: ControlUiAssets): Promise<void> {
  for (const [urlPath, asset] of assets.files) {
    if (!urlPath.endsWith('.js')) continue;
    const file = await readFile(asset.path);
    // Most of the ~30 MB of scripts are skipped without decoding them.
    if (!file.includes(MARKER)) continue;
    const source = withoutHostCommandSteps(file.toString('utf8'));
    if (source === undefined) continue;
    const body = Buffer.from(source, 'utf8');
    asset.content = { body, gzip: gzipSync(body) };
  }
}
