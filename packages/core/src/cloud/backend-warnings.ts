import type { CloudDialect } from './dialects/cloud-dialect.js';

/** A finding about how a gateway is set up to talk to its Cloud Backend. */
export interface BackendSetupFinding {
  /** `backend.transport`, `backend.dialect`, `backend.timeouts`, `backend.push`. */
  id: string;
  level: 'warn' | 'error';
  message: string;
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$/i;

/** Whether a URL's host is this machine (where plain HTTP cannot be sniffed on a network). */
export function isLoopbackUrl(url: string): boolean {
  try {
    return LOOPBACK.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * What `serve` and `doctor` say about a backend setup: plain `http://` to another host (the service token and
 * every gateway token cross the network in clear), the dialect's unsafe or missing parts, and a request
 * deadline that would outlast the client's handshake (an outage would then close connections with a
 * non-retryable policy error instead of answering `BACKEND_UNAVAILABLE`).
 */
export function backendSetupFindings(setup: {
  url: string;
  dialect: CloudDialect;
  timeoutMs: number;
  handshakeTimeoutMs?: number;
  push: boolean;
}): BackendSetupFinding[] {
  const findings: BackendSetupFinding[] = [];
  let protocol = '';
  try {
    protocol = new URL(setup.url).protocol;
  } catch {
    // The config loader validated the URL already.
  }
  if (protocol === 'http:' && !isLoopbackUrl(setup.url)) {
    findings.push({
      id: 'backend.transport',
      level: 'warn',
      message: `cloudBackendUrl uses plain http:// to ${new URL(setup.url).host}: the service token${setup.dialect.tokenInUrl ? ' and every user token' : ' and user tokens'} cross the network unencrypted. Use https://.`,
    });
  }
  if (setup.dialect.tokenInUrl) {
    findings.push({
      id: 'backend.dialect',
      level: 'warn',
      message: `the "${setup.dialect.name}" dialect sends each gateway token in the URL of ${setup.dialect.routes.verify}: it reaches the backend's access logs and any proxy. Keep those logs private and migrate the backend to contract v1 (docs/cloud-backend-api.md).`,
    });
  }
  if (setup.dialect.limits.length > 0) {
    findings.push({
      id: 'backend.limits',
      level: 'warn',
      message: `the "${setup.dialect.name}" dialect cannot: ${setup.dialect.limits.filter((limit) => !limit.startsWith('verify takes')).join('; ')}.`,
    });
  }
  if (setup.handshakeTimeoutMs !== undefined && setup.timeoutMs + 1_000 > setup.handshakeTimeoutMs) {
    findings.push({
      id: 'backend.timeouts',
      level: 'error',
      message: `multiTenant.cloud.timeoutMs (${setup.timeoutMs} ms) must be at least 1,000 ms below multiTenant.gateway.handshakeTimeoutMs (${setup.handshakeTimeoutMs} ms): otherwise a slow backend closes connections with a policy error (1008) instead of a retryable BACKEND_UNAVAILABLE.`,
    });
  }
  return findings;
}
