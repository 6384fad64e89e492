import type { ProviderApi } from '../providers/provider-apis.js';

/** Tokens one answer used, as its provider reported them. */
export interface TokenUsage {
  /** Prompt tokens, cached ones included (Anthropic's cache reads and writes, OpenAI's cached tokens). */
  inputTokens: number;
  /** Generated tokens, reasoning ("thinking") tokens included. */
  outputTokens: number;
}

/** Reads what one JSON value (a whole answer, or one streamed event) says about usage. */
export type UsageReader = (value: unknown) => Partial<TokenUsage> | undefined;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;

function sum(...values: unknown[]): number | undefined {
  let total: number | undefined;
  for (const value of values) {
    const n = count(value);
    if (n !== undefined) total = (total ?? 0) + n;
  }
  return total;
}

function usage(inputTokens: number | undefined, outputTokens: number | undefined): Partial<TokenUsage> | undefined {
  if (inputTokens === undefined && outputTokens === undefined) return undefined;
  return { ...(inputTokens === undefined ? {} : { inputTokens }), ...(outputTokens === undefined ? {} : { outputTokens }) };
}

// OpenAI chat completions: `usage` on the answer, or on the last streamed chunk.
const openAiCompletions: UsageReader = (value) => {
  const u = isObject(value) ? value.usage : undefined;
  return isObject(u) ? usage(count(u.prompt_tokens), count(u.completion_tokens)) : undefined;
};

// OpenAI responses: `usage` on the answer; streamed, on `response.completed` (or `.incomplete`/`.failed`) as `response.usage`.
const openAiResponses: UsageReader = (value) => {
  if (!isObject(value)) return undefined;
  const u = value.usage ?? (isObject(value.response) ? value.response.usage : undefined);
  return isObject(u) ? usage(count(u.input_tokens), count(u.output_tokens)) : undefined;
};

// Anthropic messages: `usage` on the answer; streamed, `message_start.message.usage` then cumulative `message_delta.usage`.
const anthropicMessages: UsageReader = (value) => {
  if (!isObject(value)) return undefined;
  const u = value.usage ?? (isObject(value.message) ? value.message.usage : undefined);
  if (!isObject(u)) return undefined;
  return usage(sum(u.input_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens), count(u.output_tokens));
};

// Google generative AI: cumulative `usageMetadata` on the answer and on streamed chunks.
const googleGenerativeAi: UsageReader = (value) => {
  const u = isObject(value) ? value.usageMetadata : undefined;
  return isObject(u) ? usage(count(u.promptTokenCount), sum(u.candidatesTokenCount, u.thoughtsTokenCount)) : undefined;
};

// Ollama: counts on the final (`done`) object.
const ollama: UsageReader = (value) => (isObject(value) ? usage(count(value.prompt_eval_count), count(value.eval_count)) : undefined);

/** The usage reader of each API. */
export const USAGE_READERS: Readonly<Record<ProviderApi, UsageReader>> = {
  'openai-completions': openAiCompletions,
  'openai-responses': openAiResponses,
  'anthropic-messages': anthropicMessages,
  'google-generative-ai': googleGenerativeAi,
  ollama,
};

/** Text that may hold usage: a usage object (not `"usage": null`) or Ollama's counts. Checked before parsing an event. */
export const MAY_HOLD_USAGE = /"usage(?:Metadata)?"\s*:\s*\{|"eval_count"\s*:/;
