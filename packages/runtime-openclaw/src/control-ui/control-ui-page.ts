import { createHash } from 'node:crypto';

/** The Control UI's entry page as the front door serves it, with the headers that go with it. */
export interface ControlUiPage {
  html: Buffer;
  contentSecurityPolicy: string;
}

const INLINE_SCRIPT = /<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi;

/** `sha256-…` sources for the page's inline scripts (those without `src`), so the policy allows exactly them. */
function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(INLINE_SCRIPT)) {
    const attributes = match[1] ?? '';
    const body = match[2] ?? '';
    if (/\ssrc\s*=/i.test(` ${attributes}`) || body.length === 0) continue;
    hashes.push(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
  }
  return hashes;
}

/**
 * Prepares the bundle's `index.html` for serving at the root of the front door: the attributes the
 * UI reads at boot (no base path, no terminal) go on `<html>`, asset links are anchored at the root, and the content security policy
 * allows the page's own inline scripts by hash, its own origin, and WebSockets — the same policy
 * OpenClaw serves it with, minus third-party origins.
 */
export function prepareControlUiPage(indexHtml: string): ControlUiPage {
  const html = indexHtml
    .replace(/<html\b/i, '<html data-openclaw-control-ui-base-path="" data-openclaw-terminal-enabled="false"')
    // Relative asset links would break on deep links such as `/chat/main`: anchor them at the root.
    .replace(/\b(src|href)="\.\//g, '$1="/');
  const contentSecurityPolicy = [
    "default-src 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "frame-src 'self'",
    `script-src 'self' ${inlineScriptHashes(html).join(' ')}`.trimEnd(),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' data: blob:",
    "font-src 'self'",
    "worker-src 'self'",
    // `data:` too: the UI fetches its inline icons.
    "connect-src 'self' ws: wss: data:",
  ].join('; ');
  return { html: Buffer.from(html, 'utf8'), contentSecurityPolicy };
}
