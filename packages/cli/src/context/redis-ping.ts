import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { respCommand as command } from './redis-settings.js';

/**
 * Checks that a Redis server answers: connects (TLS for `rediss:`), authenticates when the URL holds
 * credentials, sends PING and expects PONG. Resolves with the round-trip time; rejects with a reason
 * that never contains the password.
 */
export function pingRedis(urlText: string, timeoutMs = 3_000): Promise<number> {
  const url = new URL(urlText.includes('://') ? urlText : `redis://${urlText}`);
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(url.port || 6379);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket: Socket = url.protocol === 'rediss:' ? connectTls({ host, port, servername: host }) : connectTcp({ host, port });
    let buffer = '';
    let expected = password === '' ? 1 : 2;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(performance.now() - started);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => finish(new Error(error.code ?? error.message)));
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      if (password !== '') socket.write(user === '' ? command('AUTH', password) : command('AUTH', user, password));
      socket.write(command('PING'));
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (let newline = buffer.indexOf('\r\n'); newline >= 0; newline = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        if (line.startsWith('-')) return finish(new Error(`Redis answered ${line.slice(1).split(' ')[0]}`));
        if (--expected === 0)
          return line === '+PONG' ? finish() : finish(new Error(`unexpected answer ${JSON.stringify(line.slice(0, 40))}`));
      }
    });
  });
}
