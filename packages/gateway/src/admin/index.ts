/**
 * @openclaw-mt/gateway/admin — operating running gateways: the admin HTTP endpoint, Prometheus metrics,
 * and the signed credential operator tools send to a node's fleet port.
 */
export { createAdminServer, DEFAULT_ADMIN_PORT, type AdminServer, type AdminServerOptions } from './admin-server.js';
export { createGatewayMetrics, type GatewayMetrics, type GatewayMetricsSources } from './gateway-metrics.js';
export { FLEET_HEADER, signFleetCredential } from '../fleet/fleet-credential.js';
