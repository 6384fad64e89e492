const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An OpenAI chat-completions body that asks for usage in its stream. A cell controls its own request (its
 * OpenClaw config can switch `supportsUsageInStreaming` off), and a stream without usage could not be metered
 * or held to a token quota. The body is re-encoded only when it streams and has not asked already.
 */
export function withStreamUsage(body: Buffer): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body; // Not JSON: the provider will say so.
  }
  if (!isObject(parsed) || parsed.stream !== true) return body;
  const options = parsed.stream_options;
  if (isObject(options) && options.include_usage === true) return body;
  parsed.stream_options = { ...(isObject(options) ? options : {}), include_usage: true };
  return Buffer.from(JSON.stringify(parsed));
}
