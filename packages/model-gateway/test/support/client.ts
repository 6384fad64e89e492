import { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';

/** How to send one request to the model gateway, as a cell would. */
export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Reach the gateway over this Unix socket instead of TCP. */
  socketPath?: string;
}

/** A whole answer. */
export interface CallResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

function start(origin: string | undefined, path: string, options: CallOptions): { req: ClientRequest; body: string | undefined } {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const url = origin === undefined ? undefined : new URL(origin);
  const req = request({
    ...(options.socketPath === undefined ? { hostname: url!.hostname, port: url!.port } : { socketPath: options.socketPath }),
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    path,
    agent: false,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
      ...options.headers,
    },
  });
  return { req, body };
}

/** Sends a request and reads the whole answer. */
export function call(origin: string | undefined, path: string, options: CallOptions = {}): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const { req, body } = start(origin, path, options);
    req.on('error', reject);
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: <T>() => JSON.parse(text) as T });
      });
    });
    req.end(body);
  });
}

/** Sends a request and resolves with the answer as it starts (for streams); `req` lets the test abort. */
export function open(
  origin: string | undefined,
  path: string,
  options: CallOptions = {},
): Promise<{ req: ClientRequest; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const { req, body } = start(origin, path, options);
    req.on('error', reject);
    req.on('response', (response) => resolve({ req, response }));
    req.end(body);
  });
}

/** The next chunk a stream delivers. */
export function nextChunk(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    response.once('data', (chunk: Buffer) => {
      response.pause();
      resolve(chunk.toString('utf8'));
    });
    response.once('error', reject);
    response.resume();
  });
}

/** Reads the rest of a stream. */
export function rest(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.resume();
  });
}
