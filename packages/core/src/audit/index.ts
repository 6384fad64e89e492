/**
 * @openclaw-mt/core/audit — recording administrative actions in an `AuditLog`: `audited` runs an action
 * and records who did what and how it ended, never a secret.
 */
export { type AuditSubject, audited, localActor } from './audited.js';
