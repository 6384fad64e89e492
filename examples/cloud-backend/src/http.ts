import type { IncomingMessage, ServerResponse } from 'node:http';

/** A failure with an HTTP status and a contract error code (`{ error: { code, message } }`). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Largest request body accepted (a tenant config is at most 256 KiB serialised). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads a JSON request body within {@link MAX_BODY_BYTES}; an empty body is `undefined`. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES)
    throw new HttpError(413, 'BAD_REQUEST', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    total += buffer.byteLength;
    if (total > MAX_BODY_BYTES) throw new HttpError(413, 'BAD_REQUEST', `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
    chunks.push(buffer);
  }
  if (total === 0) return undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(type))
    throw new HttpError(415, 'BAD_REQUEST', 'Send request bodies as application/json.');
  try {
    return JSON.parse(Buffer.concat(chunks, total).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body is not valid JSON.');
  }
}

/** Reads a JSON object body (or `{}` when empty). */
export async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJson(req);
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'BAD_REQUEST', 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(data)),
    ...headers,
  });
  res.end(data);
}

/** Sends a body-less answer (204, 304). */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, ...headers });
  res.end();
}

/** Sends a contract error body. */
export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } }, error.headers);
}

/** The bearer credential of a request, or `undefined`. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
