import type { JsonValue } from '@openclaw-mt/core';
import JSON5 from 'json5';

/** A JSON5 document that could not be read, or holds what the front door refuses; `line` and `column` are 1-based where known. */
export class Json5Error extends Error {
  override readonly name = 'Json5Error';
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 128;
// Keys that would reach an object's prototype in a naive reader: never accepted.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Refuses a document nested deeper than the front door walks, or holding a prototype-reaching key. */
function checkShape(value: JsonValue, depth: number): void {
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_DEPTH) throw new Json5Error('nested too deeply');
  if (Array.isArray(value)) {
    for (const item of value) checkShape(item, depth + 1);
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw new Json5Error(`key "${key}" is not accepted`);
    checkShape(item, depth + 1);
  }
}

/**
 * Reads a JSON5 document (OpenClaw's config format) with the `json5` package OpenClaw itself uses,
 * so the front door inspects a config write exactly as OpenClaw will read it: a key given twice
 * takes its last value in both. Stricter where strictness is safer: prototype-reaching keys
 * (`__proto__`, `constructor`, `prototype`) and nesting deeper than 128 levels are refused.
 *
 * @throws Json5Error when the text is not JSON5 or holds what is refused.
 */
export function parseJson5(text: string): JsonValue {
  let value: JsonValue;
  try {
    value = JSON5.parse<JsonValue>(text);
  } catch (error) {
    const { message, lineNumber, columnNumber } = error as SyntaxError & { lineNumber?: number; columnNumber?: number };
    throw new Json5Error(message.replace(/^JSON5: /, ''), lineNumber, columnNumber);
  }
  checkShape(value, 0);
  return value;
}
