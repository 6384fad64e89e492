import Libsql from 'libsql';

/** A prepared statement whose bind parameters are `P` and whose rows are `R`. */
export interface SqliteStatement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): { changes: number; lastInsertRowid: number | bigint };
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
}

/** A function run inside `BEGIN` … `COMMIT`, rolled back when it throws. */
export interface SqliteTransaction<F extends (...args: never[]) => unknown> {
  (...args: Parameters<F>): ReturnType<F>;
  /** Runs inside `BEGIN IMMEDIATE`: takes the write lock first, so a read-then-write cannot be overtaken. */
  immediate(...args: Parameters<F>): ReturnType<F>;
}

/** The part of the binding the examples use, typed by the row and parameter shapes each query names. */
export interface SqliteDatabase {
  readonly open: boolean;
  prepare<P extends unknown[] | object = unknown[], R = unknown>(
    sql: string,
  ): P extends unknown[] ? SqliteStatement<P, R> : SqliteStatement<[P], R>;
  transaction<F extends (...args: never[]) => unknown>(body: F): SqliteTransaction<F>;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(sql: string): unknown;
  close(): unknown;
}

/** Options of the {@link Database} constructor. */
export interface SqliteOpenOptions {
  /** How long to wait for another connection's lock before failing with `SQLITE_BUSY`. */
  timeout?: number;
}

/**
 * The SQLite binding: libsql, whose API matches better-sqlite3's and whose native code comes prebuilt
 * in a per-platform npm package (Node-API, so one binary serves Node 20, 22 and 24). Installing it
 * compiles nothing and downloads nothing from outside the npm registry.
 */
export const Database = Libsql as unknown as new (filename: string, options?: SqliteOpenOptions) => SqliteDatabase;
