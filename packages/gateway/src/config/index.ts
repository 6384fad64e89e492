/**
 * @openclaw-mt/gateway/config — the `multiTenant.gateway` and `multiTenant.admin` sections of the
 * operator's config file: schemas, parsing with coded errors, and the gateway options they amount to.
 */
export {
  gatewaySettingsSchema,
  parseGatewaySettings,
  gatewayOptionsFromSettings,
  FLEET_SECRET_ENV,
  type GatewaySettings,
} from './gateway-settings.js';
export { adminSettingsSchema, parseAdminSettings, ADMIN_TOKEN_ENV, type AdminSettings } from './admin-settings.js';
