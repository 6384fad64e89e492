/**
 * A small, real reference Cloud Backend for openclaw-mt (wire contract v1): node:http, SQLite
 * (libsql), JWT sessions (jose, HS256) and scrypt passwords. Start from it; replace what you
 * need. See README.md.
 */
export { type CloudBackendServer, type CloudBackendServerOptions, createCloudBackendServer } from './server.js';
export { encodeCursor, decodeCursor } from './feed-cursor.js';
export { type PushSender, type PushSenderOptions, createPushSender } from './push-sender.js';
