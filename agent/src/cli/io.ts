/** What a CLI command may touch of the process: streams and environment. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Standard input, for commands that read a secret from it (`mqtt passwd`). */
  stdin?: NodeJS.ReadableStream;
}

/** Documented exit codes (docs/cli.md). */
export const ExitCode = {
  OK: 0,
  /** The operation failed or was refused; the message says why. */
  FAILED: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** An internal error (a bug): the log has the stack. */
  INTERNAL: 70,
  /** The configuration is invalid (sysexits EX_CONFIG). */
  CONFIG: 78,
  /** The reader of stdout went away (`| head`): stopped quietly, as a shell reports SIGPIPE. */
  PIPE_CLOSED: 141,
} as const;
