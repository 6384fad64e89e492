import { MAY_HOLD_USAGE, type TokenUsage, type UsageReader } from './usage-shapes.js';

/** Longest streamed line (one SSE data line, one NDJSON object) looked at; longer ones are passed on unread. */
const MAX_LINE_BYTES = 1024 * 1024;
/** Largest JSON answer parsed whole; beyond it only its tail is kept, where every API puts its usage. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;
const TAIL_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

type Framing = 'sse' | 'lines' | 'json' | 'none';

function framingOf(contentType: string | undefined): Framing {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'text/event-stream') return 'sse';
  if (type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/jsonlines') return 'lines';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  return 'none';
}

/**
 * Reads usage from an answer as it streams past, without holding it back: SSE events and NDJSON lines are
 * framed incrementally and only those that can hold usage are parsed; a JSON answer is copied (bounded) and
 * parsed at its end. Counts only grow (`max` per field), which fits every API: OpenAI reports once, Anthropic
 * and Google report running totals.
 */
export class UsageTap {
  private readonly framing: Framing;
  private input: number | undefined;
  private output: number | undefined;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private skipLine = false;
  private data: string[] = [];
  private json: Buffer[] = [];
  private jsonBytes = 0;
  private jsonTruncated = false;
  private result: Partial<TokenUsage> | undefined;
  /** Streamed events (SSE data events or NDJSON lines) seen. */
  events = 0;
  /** Answer bytes seen. */
  bytes = 0;

  constructor(
    private readonly read: UsageReader,
    contentType: string | undefined,
  ) {
    this.framing = framingOf(contentType);
  }

  /** Looks at one chunk of the answer (the chunk itself goes on to the cell untouched). */
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.framing === 'none') return;
    if (this.framing === 'json') {
      this.keepJson(chunk);
      return;
    }
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        this.keepPartial(chunk.subarray(start));
        return;
      }
      const piece = chunk.subarray(start, end);
      start = end + 1;
      if (this.skipLine) {
        this.skipLine = false;
        this.partial = [];
        this.partialBytes = 0;
        continue;
      }
      const line = this.partialBytes === 0 ? piece : Buffer.concat([...this.partial, piece]);
      this.partial = [];
      this.partialBytes = 0;
      this.line(line.toString('utf8'));
    }
  }

  /** What the answer reported, once it has ended (fields it never reported are absent). Idempotent. */
  finish(): Partial<TokenUsage> {
    if (this.result !== undefined) return this.result;
    if (this.framing === 'json') this.readJson();
    else if (this.framing !== 'none') {
      if (this.partialBytes > 0 && !this.skipLine) this.line(Buffer.concat(this.partial).toString('utf8'));
      this.dispatch();
    }
    this.result = {
      ...(this.input === undefined ? {} : { inputTokens: this.input }),
      ...(this.output === undefined ? {} : { outputTokens: this.output }),
    };
    return this.result;
  }

  private keepPartial(piece: Buffer): void {
    if (piece.length === 0 || this.skipLine) return;
    if (this.partialBytes + piece.length > MAX_LINE_BYTES) {
      this.skipLine = true;
      this.partial = [];
      this.partialBytes = 0;
      return;
    }
    this.partial.push(piece);
    this.partialBytes += piece.length;
  }

  private line(raw: string): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.framing === 'lines') {
      if (text.trim() === '') return;
      this.events++;
      this.consider(text);
      return;
    }
    if (text === '') {
      this.dispatch();
      return;
    }
    if (text.startsWith('data:')) this.data.push(text.charCodeAt(5) === 0x20 ? text.slice(6) : text.slice(5));
  }

  private dispatch(): void {
    if (this.data.length === 0) return;
    const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
    this.data = [];
    this.events++;
    this.consider(data);
  }

  private consider(text: string): void {
    if (!MAY_HOLD_USAGE.test(text)) return;
    try {
      this.merge(JSON.parse(text));
    } catch {
      // Not JSON: nothing to meter in it.
    }
  }

  private merge(value: unknown): void {
    if (Array.isArray(value)) {
      // Google's streamGenerateContent without `alt=sse` answers one JSON array of chunks.
      for (const item of value) this.merge(item);
      return;
    }
    const found = this.read(value);
    if (found?.inputTokens !== undefined) this.input = Math.max(this.input ?? 0, found.inputTokens);
    if (found?.outputTokens !== undefined) this.output = Math.max(this.output ?? 0, found.outputTokens);
  }

  private keepJson(chunk: Buffer): void {
    this.json.push(chunk);
    this.jsonBytes += chunk.length;
    if (this.jsonBytes <= MAX_JSON_BYTES) return;
    this.jsonTruncated = true;
    const all = Buffer.concat(this.json);
    this.json = [all.subarray(all.length - TAIL_BYTES)];
    this.jsonBytes = TAIL_BYTES;
  }

  private readJson(): void {
    const text = Buffer.concat(this.json).toString('utf8');
    this.json = [];
    if (!this.jsonTruncated) {
      this.consider(text);
      return;
    }
    const object = lastUsageObject(text);
    if (object !== undefined) this.merge(object);
  }
}

/** The last `"usage": {…}` or `"usageMetadata": {…}` in `text` (a tail of a large answer), as `{ [key]: value }`. */
function lastUsageObject(text: string): Record<string, unknown> | undefined {
  const pattern = /"(usage|usageMetadata)"\s*:\s*\{/g;
  let last: RegExpExecArray | undefined;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) last = match;
  if (last === undefined) return undefined;
  const start = last.index + last[0].length - 1;
  const end = closingBrace(text, start);
  if (end === -1) return undefined;
  try {
    return { [last[1]!]: JSON.parse(text.slice(start, end + 1)) };
  } catch {
    return undefined;
  }
}

/** Index of the `}` closing the object opened at `start`, skipping strings; -1 when it does not close. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b) depth++;
    else if (char === 0x7d && --depth === 0) return i;
  }
  return -1;
}
