import type { ProviderCredential } from '../../contracts/tenant-secret-store.js';
import type { TokenFormatName } from '../../tokens/token-formats.js';
import type { CloudResponse } from '../http-request.js';
import type { VerifyResponse } from '../wire-contract.js';

/** The backends a gateway can speak to: openclaw-mt's contract, or the original fork's FastAPI backend as it is. */
export type CloudDialectName = 'v1' | 'fba';

/** One request a dialect asks the client to send (the client adds deadlines, caps and redaction). */
export interface DialectRequest {
  method: 'GET' | 'POST';
  /** Path under the base URL, prefix included. */
  path: string;
  /** Query parameters. Only the `fba` verify route puts a credential here (flagged by `tokenInUrl`). */
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Send `Authorization: Bearer <serviceToken>`. */
  serviceAuth: boolean;
  headers?: Record<string, string>;
}

/** A definite verify answer, in the contract's terms, plus what some backends add. */
export type VerifyOutcome =
  | {
      kind: 'valid';
      answer: VerifyResponse;
      /** The user's config as the verify answer carried it (`fba`), validated later like a feed entry. */
      config?: unknown;
      /** The user's model credential, when the backend hands one out (`fba`). Secret. */
      credential?: ProviderCredential;
    }
  | { kind: 'invalid'; status: number };

/** One page of the feed whose envelope is valid, translated to the contract's shapes; entries are checked by the caller. */
export interface FeedPage {
  kind: 'page';
  users: unknown[];
  tokens: unknown[];
  /** Per-user credentials carried by the feed (`fba`), by user id; `undefined` = the user has none. Secret. */
  credentials: Array<{ userId: string; credential: ProviderCredential | undefined }>;
  nextCursor: string;
  hasMore: boolean;
  etag?: string;
  bytes: number;
}

/** What `configs` answers. */
export type ConfigsOutcome = { kind: 'not-modified' } | FeedPage;

/** A request of the feed. */
export interface ConfigsQuery {
  /** Opaque cursor from the previous page; from the start when omitted. */
  cursor?: string;
  limit: number;
  /** The ETag received for this very cursor, sent as `If-None-Match`. */
  etag?: string;
}

/** Context handed to a dialect's readers. */
export interface DialectContext {
  /** Literal secrets to scrub from every message built from a backend's answer. */
  secrets: readonly string[];
}

/**
 * How one kind of backend is spoken to: its routes, envelope and field names, translated to and from the
 * contract's shapes, and what it cannot do. Configuration picks one (`multiTenant.cloud.dialect`).
 */
export interface CloudDialect {
  readonly name: CloudDialectName;
  /** Prefix of every route under the base URL (`''` for v1, `/api/v1` for fba). */
  readonly pathPrefix: string;
  /** The token formats its tokens come in, as the gateway should accept them by default. */
  readonly tokenFormats: readonly TokenFormatName[];
  /**
   * `changes`: the feed lists changes after a cursor (suspensions, deletions and token events included).
   * `snapshot`: it pages over its current active users only; each sync walks it all, and a user missing from
   * a complete walk is treated as no longer active.
   */
  readonly feed: 'changes' | 'snapshot';
  /** Whether verify puts the gateway token in the URL (unsafe: URLs reach access logs and proxies). */
  readonly tokenInUrl: boolean;
  /** Whether "invalid" also covers a valid token of a user who is not active (the fork answers 401 for both). */
  readonly invalidCoversSuspended: boolean;
  /** Whether the feed honours `If-None-Match`. */
  readonly conditionalRequests: boolean;
  /** Largest page the backend serves. */
  readonly maxPageLimit: number;
  /** Routes, for messages and the checker. */
  readonly routes: { verify: string; configs: string };
  /** What this backend cannot do, and what the gateway does instead (for `serve`, `doctor` and the checker). */
  readonly limits: readonly string[];
  verifyRequest(token: string): DialectRequest;
  readVerify(response: CloudResponse, context: DialectContext): VerifyOutcome;
  configsRequest(query: ConfigsQuery): DialectRequest;
  readConfigs(response: CloudResponse, query: ConfigsQuery, context: DialectContext): ConfigsOutcome;
}
