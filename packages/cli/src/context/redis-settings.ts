import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** One RESP command as bytes. */
export function respCommand(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`;
}

type Reply = string | number | null | Reply[] | Error;

/** Reads one RESP reply from `text` at `at`; `undefined` when more bytes are needed. */
function readReply(text: string, at: number): { value: Reply; next: number } | undefined {
  const end = text.indexOf('\r\n', at);
  if (end < 0) return undefined;
  const kind = text[at];
  const line = text.slice(at + 1, end);
  if (kind === '+') return { value: line, next: end + 2 };
  if (kind === '-') return { value: new Error(line), next: end + 2 };
  if (kind === ':') return { value: Number(line), next: end + 2 };
  if (kind === '$') {
    const length = Number(line);
    if (length < 0) return { value: null, next: end + 2 };
    // Byte lengths: the values read here (config names and settings) are ASCII.
    if (text.length < end + 2 + length + 2) return undefined;
    return { value: text.slice(end + 2, end + 2 + length), next: end + 2 + length + 2 };
  }
  if (kind === '*') {
    const count = Number(line);
    const items: Reply[] = [];
    let next = end + 2;
    for (let i = 0; i < count; i++) {
      const item = readReply(text, next);
      if (item === undefined) return undefined;
      items.push(item.value);
      next = item.next;
    }
    return { value: count < 0 ? null : items, next };
  }
  return { value: new Error(`unexpected reply ${JSON.stringify(line.slice(0, 40))}`), next: end + 2 };
}

/**
 * Reads server settings with `CONFIG GET` (one per name; authenticates when the URL holds credentials).
 * A setting the server refuses to show (a managed Redis may disable CONFIG) is left out.
 */
export function redisSettings(urlText: string, names: readonly string[], timeoutMs = 3_000): Promise<Map<string, string>> {
  const url = new URL(urlText.includes('://') ? urlText : `redis://${urlText}`);
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(url.port || 6379);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return new Promise((resolve, reject) => {
    const socket: Socket = url.protocol === 'rediss:' ? connectTls({ host, port, servername: host }) : connectTcp({ host, port });
    const replies: Reply[] = [];
    const expected = names.length + (password === '' ? 0 : 1);
    let buffer = '';
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) return reject(error);
      const settings = new Map<string, string>();
      for (const reply of replies.slice(password === '' ? 0 : 1)) {
        if (Array.isArray(reply) && typeof reply[0] === 'string' && typeof reply[1] === 'string') settings.set(reply[0], reply[1]);
      }
      resolve(settings);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => finish(new Error(error.code ?? error.message)));
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      if (password !== '') socket.write(user === '' ? respCommand('AUTH', password) : respCommand('AUTH', user, password));
      for (const name of names) socket.write(respCommand('CONFIG', 'GET', name));
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (let read = readReply(buffer, 0); read !== undefined; read = readReply(buffer, 0)) {
        buffer = buffer.slice(read.next);
        if (replies.length === 0 && password !== '' && read.value instanceof Error)
          return finish(new Error('Redis refused the credentials'));
        replies.push(read.value);
        if (replies.length === expected) return finish();
      }
    });
  });
}
