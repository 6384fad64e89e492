import { MultiTenantError } from '@openclaw-mt/core';

/** The internal link between the nodes of a fleet. */
export interface FleetOptions {
  /** Shared by every node of the fleet; at least 32 characters. Only nodes that know it may forward sessions. */
  secret: string;
  /** Address the internal port binds (default `127.0.0.1`; a private interface in a real fleet). */
  host?: string;
  /** Internal port (default 18791; 0 picks a free one). */
  port?: number;
  /** The URL other nodes use to reach this node's internal port (default `ws://<host>:<port>`). */
  advertise?: string;
  /** How long a node waits for an owner's internal port to accept a link (default 3 s). */
  linkTimeoutMs?: number;
}

/** The internal port when none is configured. */
export const DEFAULT_FLEET_PORT = 18791;

/** Checks fleet options once, at start. */
export function assertFleetOptions(options: FleetOptions): Required<Omit<FleetOptions, 'advertise'>> & { advertise?: string } {
  if (typeof options.secret !== 'string' || options.secret.length < 32) {
    throw new MultiTenantError('CONFIG_INVALID', 'fleet.secret: expected a shared secret of at least 32 characters.');
  }
  if (options.advertise !== undefined && !/^wss?:\/\/[^\s/]+\/?$/.test(options.advertise)) {
    throw new MultiTenantError('CONFIG_INVALID', 'fleet.advertise: expected ws://host:port (the address other nodes reach).');
  }
  const port = options.port ?? DEFAULT_FLEET_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new MultiTenantError('CONFIG_INVALID', 'fleet.port: expected an integer between 0 and 65535.');
  }
  return {
    secret: options.secret,
    host: options.host ?? '127.0.0.1',
    port,
    linkTimeoutMs: options.linkTimeoutMs ?? 3_000,
    ...(options.advertise === undefined ? {} : { advertise: options.advertise.replace(/\/$/, '') }),
  };
}
