import { redactText } from '@openclaw-mt/core/tokens';

/** A run of this many characters of a key is treated as an echo of it (providers echo keys masked: `sk-proj-abc1****xyz9`). */
const FRAGMENT = 12;
const KEYISH_RUN = new RegExp(`[A-Za-z0-9_\\-.]{${FRAGMENT},}`, 'g');
const REDACTED = '[redacted]';

/**
 * Removes a provider's echo of a key from text (an upstream error body): the key itself, any run of characters
 * holding 12 consecutive characters of it, and bearer credentials.
 */
export function redactKeyEcho(text: string, keys: ReadonlyArray<string | undefined>): string {
  let out = text;
  const fragments = new Set<string>();
  for (const key of keys) {
    if (key === undefined || key.length < 4) continue;
    out = out.split(key).join(REDACTED);
    for (let i = 0; i + FRAGMENT <= key.length; i++) fragments.add(key.slice(i, i + FRAGMENT));
  }
  if (fragments.size > 0) {
    out = out.replace(KEYISH_RUN, (run) => {
      for (let i = 0; i + FRAGMENT <= run.length; i++) if (fragments.has(run.slice(i, i + FRAGMENT))) return REDACTED;
      return run;
    });
  }
  return redactText(out);
}
