/**
 * @openclaw-mt/core/helpers — the small pieces every storage adapter and runtime needs and should not
 * write again: atomic, durable file writes; a cross-process file lock; a per-key async mutex; capped
 * exponential backoff with jitter; the sweep for temp files a crash left behind; and GNU `find`/`du`, which walk
 * large trees in one process.
 */
export {
  type AtomicWriteOptions,
  type StagedFile,
  writeFileAtomic,
  stageFileAtomic,
  createFileExclusive,
  syncDirectory,
} from './atomic-write.js';
export { type FileLockOptions, withFileLock } from './file-lock.js';
export { KeyedMutex } from './keyed-mutex.js';
export { type BackoffOptions, type BackoffJitter, createBackoff } from './backoff.js';
export { isTempFileName, removeAbandonedTempFiles, removeAbandonedTempFilesSync } from './temp-files.js';
export { isProcessAlive } from './process-alive.js';
export { hasGnuTool, runTool } from './gnu-tools.js';
