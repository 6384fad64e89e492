import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from 'consola';
import { redact } from '../tokens/redact.js';

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Tag shown with every line (`openclaw-mt:gateway`). */
  tag?: string;
  /** Where info-level lines go. CLIs printing data on stdout pass `'stderr'`. */
  stream?: 'stdout' | 'stderr';
  /** Consola log level; defaults to `CONSOLA_LEVEL` from the environment, else consola's default. */
  level?: number;
  /** Literal secrets (service token, admin token) to scrub besides `gt_` tokens and bearer credentials. */
  secrets?: readonly string[];
}

function redactingReporter(inner: ConsolaReporter, secrets: readonly string[]): ConsolaReporter {
  return {
    log(logObj: LogObject, ctx) {
      const clean = { ...logObj, args: logObj.args.map((arg) => redact(arg, secrets)) } as LogObject;
      if (typeof logObj.message === 'string') clean.message = redact(logObj.message, secrets) as string;
      return inner.log(clean, ctx);
    },
  };
}

/**
 * A consola logger whose every line passes through {@link redact}: gateway tokens, bearer credentials
 * and the given secrets never reach a log. Every log path in openclaw-mt uses it.
 */
export function createLogger(options: LoggerOptions = {}): ConsolaInstance {
  const envLevel = process.env.CONSOLA_LEVEL;
  const level = options.level ?? (envLevel !== undefined && envLevel !== '' ? Number(envLevel) : undefined);
  const stream = options.stream === 'stderr' ? process.stderr : process.stdout;
  const base = createConsola({ stdout: stream, stderr: process.stderr, ...(level === undefined || Number.isNaN(level) ? {} : { level }) });
  const secrets = options.secrets ?? [];
  base.setReporters(base.options.reporters.map((reporter) => redactingReporter(reporter, secrets)));
  return options.tag === undefined ? base : base.withTag(options.tag);
}
