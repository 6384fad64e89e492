import { lstat, readdir, realpath } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MultiTenantError } from '@openclaw-mt/core';

/** One servable file of the Control UI bundle. */
export interface ControlUiAsset {
  /** Absolute path of the file. */
  path: string;
  size: number;
  contentType: string;
  /** Pre-compressed siblings shipped next to it (`br`, `gzip`), with their paths and sizes. */
  encoded: Partial<Record<'br' | 'gzip', { path: string; size: number }>>;
  /** Served from memory instead of `path` and `encoded` when set: the file as the front door rewrote it, and gzipped. */
  content?: { body: Buffer; gzip: Buffer };
}

/** The Control UI bundle of an install: every regular file by its URL path, read once. */
export interface ControlUiAssets {
  /** The bundle's directory (realpath). */
  root: string;
  /** Files by URL path (`/index.html`, `/assets/app-1a2b.js`). */
  files: ReadonlyMap<string, ControlUiAsset>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};

const ENCODED_SUFFIXES = { '.br': 'br', '.gz': 'gzip' } as const;

/** A bundle is a few thousand files; deeper trees or more files mean the directory is not the bundle. */
const MAX_FILES = 20_000;
const MAX_DEPTH = 8;

/**
 * Reads the Control UI bundle under `directory` once: only regular files (symlinks and anything
 * else are skipped) with a known content type are servable, so a request can name nothing but a
 * file listed here — no path from a URL ever reaches the filesystem. Throws `CONFIG_INVALID` when
 * the directory has no `index.html`.
 */
export async function loadControlUiAssets(directory: string): Promise<ControlUiAssets> {
  let root: string;
  try {
    root = await realpath(directory);
  } catch (error) {
    throw new MultiTenantError('CONFIG_INVALID', `The OpenClaw Control UI is not installed at ${directory}.`, {
      cause: error,
      details: { reason: 'control-ui-missing' },
    });
  }
  const plain = new Map<string, ControlUiAsset>();
  const encoded: Array<{ urlPath: string; encoding: 'br' | 'gzip'; path: string; size: number }> = [];
  let count = 0;
  async function walk(dir: string, urlDir: string, depth: number): Promise<void> {
    if (depth > MAX_DEPTH) return;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (++count > MAX_FILES) throw new MultiTenantError('CONFIG_INVALID', `${root} holds more files than a Control UI bundle.`);
      const path = join(dir, entry.name);
      const urlPath = `${urlDir}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(path, urlPath, depth + 1);
        continue;
      }
      if (!entry.isFile()) continue;
      const stats = await lstat(path);
      const suffix = extname(entry.name) as keyof typeof ENCODED_SUFFIXES;
      if (suffix in ENCODED_SUFFIXES) {
        encoded.push({ urlPath: urlPath.slice(0, -suffix.length), encoding: ENCODED_SUFFIXES[suffix], path, size: stats.size });
        continue;
      }
      const contentType = CONTENT_TYPES[extname(entry.name).toLowerCase()];
      if (contentType !== undefined) plain.set(urlPath, { path, size: stats.size, contentType, encoded: {} });
    }
  }
  await walk(root, '', 0);
  for (const { urlPath, encoding, path, size } of encoded) {
    const asset = plain.get(urlPath);
    if (asset !== undefined) asset.encoded[encoding] = { path, size };
  }
  if (!plain.has('/index.html')) {
    throw new MultiTenantError('CONFIG_INVALID', `No Control UI at ${root}: index.html is missing.`, {
      details: { reason: 'control-ui-missing' },
    });
  }
  return { root, files: plain };
}
