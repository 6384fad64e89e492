/** Mode of every directory the adapter creates: owner only, whatever the process umask. */
export const DIRECTORY_MODE = 0o700;

/** Mode of every file the adapter creates: owner read/write only, whatever the process umask. */
export const FILE_MODE = 0o600;

/** Name of the hidden directory holding the adapter's own state inside a root (never reachable by file names). */
export const META_DIR = '.openclaw-mt';
