import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const nodeMajor = Number(process.versions.node.split('.')[0]);

/**
 * better-sqlite3, in the line that works on this Node: 12 is the last that runs on Node 20, and 13
 * (needs Node 22) is the first that exits cleanly on Node 24 — 12 aborts at process teardown there.
 * Both have the same API.
 */
export const Database: typeof BetterSqlite3 = require(nodeMajor >= 22 ? 'better-sqlite3-node22' : 'better-sqlite3');

/** An open database of either line. */
export type SqliteDatabase = BetterSqlite3.Database;
