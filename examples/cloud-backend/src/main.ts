#!/usr/bin/env node
import { type CloudBackendServer, createCloudBackendServer } from './server.js';

// Configuration comes from the environment only, so secrets never appear in a process listing.
const env = process.env;
const missing = ['JWT_SECRET', 'SERVICE_TOKEN'].filter((key) => !env[key]);
if (missing.length > 0) {
  process.stderr.write(
    `Missing ${missing.join(' and ')}. Set JWT_SECRET (≥ 32 characters), SERVICE_TOKEN (≥ 16) and optionally ADMIN_TOKEN (≥ 16), ` +
      `DATABASE (default ./cloud-backend.sqlite), PORT (default 8787), HOST (default 127.0.0.1), ` +
      `PUSH_SECRET (≥ 32, to push signed events) and PUSH_URLS (each gateway node's push URL, comma-separated).\n`,
  );
  process.exit(78);
}

const port = Number(env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`PORT: expected a port number, got ${env.PORT}.\n`);
  process.exit(78);
}

let backend: CloudBackendServer;
try {
  backend = createCloudBackendServer({
    database: env.DATABASE ?? './cloud-backend.sqlite',
    jwtSecret: env.JWT_SECRET!,
    serviceToken: env.SERVICE_TOKEN!,
    ...(env.ADMIN_TOKEN ? { adminToken: env.ADMIN_TOKEN } : {}),
    ...(env.PUSH_SECRET
      ? {
          push: {
            secrets: env.PUSH_SECRET.split(',').map((secret) => secret.trim()),
            targets: (env.PUSH_URLS ?? '')
              .split(',')
              .map((url) => url.trim())
              .filter(Boolean),
          },
        }
      : {}),
  });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(78);
}

const url = await backend.listen(port, env.HOST ?? '127.0.0.1');
process.stdout.write(`openclaw-mt example Cloud Backend listening on ${url} (database ${env.DATABASE ?? './cloud-backend.sqlite'})\n`);

const stop = () => {
  void backend.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
