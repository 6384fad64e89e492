/** Flags shared by commands that read the operator config. */
export const configArg = {
  config: {
    type: 'string',
    description: 'Config file (default: $OPENCLAW_MT_CONFIG, then /etc/openclaw/config.json, then built-in defaults)',
    valueHint: 'path',
  },
} as const;

/** The `--json` flag: data on stdout as JSON, logs on stderr. */
export const jsonArg = {
  json: { type: 'boolean', description: 'Print JSON on stdout (logs go to stderr)', default: false },
} as const;
