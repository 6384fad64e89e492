import type { JsonValue } from '@openclaw-mt/core';

/** A JSON5 document that could not be read; `offset` is where reading stopped. */
export class Json5Error extends Error {
  override readonly name = 'Json5Error';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

const MAX_DEPTH = 128;
// Keys that would reach an object's prototype in a naive reader: never accepted.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const ID_START = /[\p{L}\p{Nl}$_]/u;
const ID_PART = /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_\u200C\u200D]/u;
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;
const SINGLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', "'": "'", '"': '"', '\\': '\\', '/': '/' };

/**
 * Reads a JSON5 document (OpenClaw's config format: comments, unquoted and escaped keys, single
 * quotes, trailing commas, hex and signed numbers) so the front door can inspect a config write the
 * way OpenClaw will read it. Stricter than JSON5 where strictness is safer: duplicate keys and
 * prototype-reaching keys (`__proto__`, `constructor`, `prototype`) are refused.
 */
export function parseJson5(text: string): JsonValue {
  let at = 0;

  const fail = (message: string): never => {
    throw new Json5Error(message, at);
  };

  function skipSpace(): void {
    for (;;) {
      const char = text[at];
      if (char === undefined) return;
      if (/\s/.test(char) || char === '\uFEFF') {
        at++;
      } else if (char === '/' && text[at + 1] === '/') {
        at += 2;
        while (at < text.length && !LINE_TERMINATOR.test(text[at]!)) at++;
      } else if (char === '/' && text[at + 1] === '*') {
        const end = text.indexOf('*/', at + 2);
        if (end < 0) fail('unterminated comment');
        at = end + 2;
      } else {
        return;
      }
    }
  }

  function hex(count: number): number {
    const digits = text.slice(at, at + count);
    if (digits.length !== count || !/^[0-9a-fA-F]+$/.test(digits)) fail('invalid escape');
    at += count;
    return Number.parseInt(digits, 16);
  }

  function readString(): string {
    const quote = text[at++]!;
    let out = '';
    for (;;) {
      const char = text[at];
      if (char === undefined) fail('unterminated string');
      at++;
      if (char === quote) return out;
      if (char === '\n' || char === '\r') fail('line break in string');
      if (char !== '\\') {
        out += char;
        continue;
      }
      const escape = text[at++];
      if (escape === undefined) fail('unterminated string');
      if (escape === '\r') {
        if (text[at] === '\n') at++;
      } else if (escape === '\n' || escape === '\u2028' || escape === '\u2029') {
        // A line continuation adds nothing.
      } else if (escape === 'x') {
        out += String.fromCharCode(hex(2));
      } else if (escape === 'u') {
        out += String.fromCharCode(hex(4));
      } else if (escape === '0') {
        if (/[0-9]/.test(text[at] ?? '')) fail('invalid escape');
        out += '\0';
      } else if (/[1-9]/.test(escape!)) {
        fail('invalid escape');
      } else {
        out += SINGLE_ESCAPES[escape!] ?? escape;
      }
    }
  }

  function readIdentifier(): string {
    let out = '';
    for (;;) {
      let char = text[at];
      if (char === undefined) break;
      let escaped = false;
      if (char === '\\') {
        if (text[at + 1] !== 'u') fail('invalid identifier escape');
        at += 2;
        char = String.fromCharCode(hex(4));
        escaped = true;
      } else {
        const point = text.codePointAt(at)!;
        char = String.fromCodePoint(point);
      }
      const valid = out === '' ? ID_START.test(char) : ID_PART.test(char);
      if (!valid) {
        if (escaped || out === '') fail('invalid identifier');
        break;
      }
      if (!escaped) at += char.length;
      out += char;
    }
    if (out === '') fail('expected a key');
    return out;
  }

  function readNumber(): number {
    const start = at;
    let sign = 1;
    if (text[at] === '+' || text[at] === '-') {
      if (text[at] === '-') sign = -1;
      at++;
    }
    if (text.startsWith('Infinity', at)) {
      at += 8;
      return sign * Infinity;
    }
    if (text.startsWith('NaN', at)) {
      at += 3;
      return Number.NaN;
    }
    if (text[at] === '0' && (text[at + 1] === 'x' || text[at + 1] === 'X')) {
      at += 2;
      const digits = /^[0-9a-fA-F]+/.exec(text.slice(at))?.[0];
      if (digits === undefined) fail('invalid hex number');
      at += digits!.length;
      return sign * Number.parseInt(digits!, 16);
    }
    const match = /^(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(at));
    if (match === null) {
      at = start;
      fail('invalid value');
    }
    at += match![0].length;
    if (/[0-9]/.test(text[at] ?? '')) fail('invalid number');
    return sign * Number(match![0].startsWith('.') ? `0${match![0]}` : match![0]);
  }

  function readWord(): JsonValue {
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, at) && !ID_PART.test(text[at + word.length] ?? ' ')) {
        at += word.length;
        return value;
      }
    }
    return readNumber();
  }

  function readValue(depth: number): JsonValue {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    skipSpace();
    const char = text[at];
    if (char === '{') return readObject(depth);
    if (char === '[') return readArray(depth);
    if (char === '"' || char === "'") return readString();
    if (char === undefined) fail('unexpected end');
    return readWord();
  }

  function readObject(depth: number): JsonValue {
    at++;
    const out: { [key: string]: JsonValue } = {};
    const seen = new Set<string>();
    for (;;) {
      skipSpace();
      if (text[at] === '}') {
        at++;
        return out;
      }
      const key = text[at] === '"' || text[at] === "'" ? readString() : readIdentifier();
      if (FORBIDDEN_KEYS.has(key)) fail(`key "${key}" is not accepted`);
      if (seen.has(key)) fail(`duplicate key "${key}"`);
      seen.add(key);
      skipSpace();
      if (text[at] !== ':') fail('expected ":"');
      at++;
      out[key] = readValue(depth + 1);
      skipSpace();
      if (text[at] === ',') at++;
      else if (text[at] !== '}') fail('expected "," or "}"');
    }
  }

  function readArray(depth: number): JsonValue {
    at++;
    const out: JsonValue[] = [];
    for (;;) {
      skipSpace();
      if (text[at] === ']') {
        at++;
        return out;
      }
      out.push(readValue(depth + 1));
      skipSpace();
      if (text[at] === ',') at++;
      else if (text[at] !== ']') fail('expected "," or "]"');
    }
  }

  const value = readValue(0);
  skipSpace();
  if (at < text.length) fail('unexpected text after the document');
  return value;
}
