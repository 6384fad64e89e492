import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/**
 * Opens a raw WebSocket (no library), announces one masked text frame of `bytes` bytes and streams it
 * (with backpressure, from one shared chunk, so the sender holds no copy). Resolves with the close code
 * the server sent (or 1006 when the socket ended without one) and how many payload bytes were written.
 */
export function sendOversizedFrame(url: string, bytes: number): Promise<{ code: number; written: number }> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(target.port), target.hostname);
    let received = Buffer.alloc(0);
    let upgraded = false;
    let code = 1006;
    let written = 0;
    const pump = () => {
      while (written < bytes && !socket.destroyed) {
        const part = CHUNK.subarray(0, Math.min(CHUNK.length, bytes - written));
        written += part.length;
        if (!socket.write(part)) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(
        `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
      );
    });
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
      if (!upgraded) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = received.subarray(0, end).toString().startsWith('HTTP/1.1 101');
        received = received.subarray(end + 4);
        if (!upgraded) return socket.destroy();
        // FIN + text, masked, 64-bit length, zero mask key: the payload goes out as is.
        const header = Buffer.alloc(14);
        header[0] = 0x81;
        header[1] = 0x80 | 127;
        header.writeBigUInt64BE(BigInt(bytes), 2);
        socket.write(header);
        pump();
      }
      // Server frames are unmasked: find a close frame (opcode 8) and read its code.
      let offset = 0;
      while (received.length - offset >= 2) {
        const opcode = received[offset]! & 0x0f;
        let length = received[offset + 1]! & 0x7f;
        let start = offset + 2;
        if (length === 126) {
          if (received.length < offset + 4) break;
          length = received.readUInt16BE(offset + 2);
          start = offset + 4;
        }
        if (received.length < start + length) break;
        if (opcode === 8 && length >= 2) {
          code = received.readUInt16BE(start);
          socket.destroy();
        }
        offset = start + length;
      }
      received = received.subarray(offset);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ code, written }));
  });
}
