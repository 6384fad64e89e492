import { ADMIN_URL_ENV } from '../context/admin-client.js';

/** The `--admin-url` flag of commands that ask the running gateway. */
export const adminUrlArg = {
  'admin-url': {
    type: 'string',
    description: `The gateway's admin endpoint (default: $${ADMIN_URL_ENV}, then multiTenant.admin.bind:port, http://127.0.0.1:18790)`,
    valueHint: 'url',
  },
} as const;
