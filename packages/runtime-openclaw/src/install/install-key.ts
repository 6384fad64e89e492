import { hash } from 'node:crypto';
import type { OpenClawInstall } from './runtime-install.js';

/** Names what is recorded once per install (its path, OpenClaw's and Node's versions): a new install records again. */
export function installKey(install: Pick<OpenClawInstall, 'dir' | 'openclawVersion' | 'nodeVersion'>): string {
  return hash('sha256', `${install.dir}\0${install.openclawVersion}\0${install.nodeVersion}`, 'hex').slice(0, 16);
}
