import { MultiTenantError } from '../errors/multi-tenant-error.js';

/** Longest accepted relative file name. */
export const MAX_PATH_LENGTH = 1024;
/** Deepest accepted nesting. */
export const MAX_PATH_DEPTH = 16;
/** Longest accepted single segment (filesystems cap names at 255 bytes). */
export const MAX_SEGMENT_LENGTH = 255;

/**
 * A segment is ASCII letters, digits, `.`, `_`, `-`, `+`, `@` and `=`; it must not start with `.`
 * (so `..`, hidden files and adapters' temp files are out of reach). `%`, `\`, `:`, control
 * characters and non-ASCII are refused outright rather than decoded or normalised, so encoded
 * traversal (`%2e%2e`, fullwidth dots, overlong forms) never becomes a path.
 */
const SEGMENT_PATTERN = /^[A-Za-z0-9_+@=-][A-Za-z0-9._+@=-]*$/;

/** Why `input` is not an acceptable workspace file name, or `undefined` when it is. */
export function workspacePathProblem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'a file name must be a string';
  if (input.length === 0) return 'a file name must not be empty';
  if (input.length > MAX_PATH_LENGTH) return `a file name is at most ${MAX_PATH_LENGTH} characters`;
  if (input.includes('\0')) return 'a file name must not contain NUL';
  if (input.startsWith('/') || input.startsWith('\\') || /^[A-Za-z]:/.test(input)) return 'a file name must be relative';
  if (input.includes('\\')) return 'a file name must use "/" as its separator';
  if (input.includes('%')) return 'a file name must not contain percent-encoding';
  const segments = input.split('/');
  if (segments.length > MAX_PATH_DEPTH) return `a file name is at most ${MAX_PATH_DEPTH} levels deep`;
  for (const segment of segments) {
    if (segment === '') return 'a file name must not contain empty segments (leading, trailing or doubled "/")';
    if (segment === '.' || segment === '..') return 'a file name must not contain "." or ".." segments';
    if (segment.length > MAX_SEGMENT_LENGTH) return `each part of a file name is at most ${MAX_SEGMENT_LENGTH} characters`;
    if (segment.startsWith('.')) return 'a file name part must not start with "."';
    if (!SEGMENT_PATTERN.test(segment)) {
      return 'a file name may contain only ASCII letters, digits and . _ - + @ = in each "/"-separated part';
    }
  }
  return undefined;
}

/**
 * Returns `input` when it is an acceptable relative workspace file name, else throws `PATH_INVALID`.
 * Acceptable names are already canonical: nothing is rewritten, so a name checked here maps to
 * exactly one file in every adapter.
 */
export function assertWorkspacePath(input: unknown): string {
  const problem = workspacePathProblem(input);
  if (problem !== undefined) {
    throw new MultiTenantError('PATH_INVALID', `Invalid file name: ${problem}.`, { details: { reason: problem } });
  }
  return input as string;
}

/** Whether `input` is an acceptable relative workspace file name. */
export function isValidWorkspacePath(input: unknown): input is string {
  return workspacePathProblem(input) === undefined;
}

/** Whether `name` lies under the directory `prefix` (both acceptable names; `''` is the root). */
export function isUnderPrefix(name: string, prefix: string): boolean {
  return prefix === '' || name === prefix || name.startsWith(`${prefix}/`);
}

/** How {@link assertNoFileFolderClash} sees a workspace's current files. */
export interface WorkspaceTreeView {
  /** Whether a file with exactly this name exists. */
  isFile(name: string): boolean;
  /** Whether any file's name starts with `folder` (which ends with `/`). */
  hasFilesUnder(folder: string): boolean;
}

/**
 * Refuses a new file `name` whose parent folder is a file (`a` exists, writing `a/b`) or that is already
 * a folder (`a/b` exists, writing `a`) with `PATH_INVALID`: names form a tree as on a filesystem, so a
 * workspace can move between adapters. Call it, inside the write's transaction, for names not yet stored.
 */
export function assertNoFileFolderClash(name: string, tree: WorkspaceTreeView): void {
  const segments = name.split('/');
  for (let depth = 1; depth < segments.length; depth++) {
    const parent = segments.slice(0, depth).join('/');
    if (tree.isFile(parent))
      throw new MultiTenantError('PATH_INVALID', `${name}: ${parent} is a file, so it cannot hold other files.`, { details: { name } });
  }
  if (tree.hasFilesUnder(`${name}/`))
    throw new MultiTenantError('PATH_INVALID', `${name}: is a folder, so it cannot be a file.`, { details: { name } });
}
