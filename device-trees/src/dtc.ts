/**
 * Compiling overlay sources with dtc. dtc has no -Werror, so any "Warning" on stderr fails the
 * build: an overlay that warns usually targets the wrong node or lacks #address-cells.
 */
import { spawn } from 'node:child_process';
import { dtError } from './errors.js';

/** Result of running a command. */
export interface RunResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs a command; injected so unit tests never spawn. */
export type RunFn = (cmd: string, args: readonly string[]) => Promise<RunResult>;

/** Production runner: spawn without a shell, collect output. ENOENT becomes EDGEFLOW_DT_DTC_MISSING. */
export const runCommand: RunFn = (cmd, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(
          dtError('EDGEFLOW_DT_DTC_MISSING', `${cmd} not found: install device-tree-compiler`, e),
        );
      } else reject(e);
    });
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });

/** A dtc diagnostic located in a source file. */
export interface DtcDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Extract "file:line" from dtc 1.6 messages: `Error: FILE:LINE.COL-COL syntax error` for syntax
 * errors, `FILE:LINE.COL-COL: Warning (check): message` for checks that know the source.
 */
export function parseDtcDiagnostics(stderr: string, source: string): DtcDiagnostic[] {
  const out: DtcDiagnostic[] = [];
  for (const line of stderr.split('\n')) {
    const err = /^Error: ([^:\s]+):(\d+)[.\d-]* (.*)$/.exec(line);
    const warn = /^([^:\s]+):(\d+)[.\d-]*: ((?:Warning|ERROR).*)$/.exec(line);
    const m = err ?? warn;
    if (m && m[1] && m[2]) {
      out.push({
        file: m[1],
        line: Number(m[2]),
        message: (err ? `Error: ${m[3] ?? ''}` : (m[3] ?? '')).trim(),
      });
    }
  }
  if (out.length === 0 && stderr.trim() !== '') {
    // dtc reports some problems (e.g. a missing label) without a position: still name the file.
    const first = stderr.trim().split('\n')[0] ?? '';
    out.push({ file: source, line: 0, message: first });
  }
  return out;
}

/**
 * Compile one overlay source to a .dtbo with `dtc -@`. Throws EDGEFLOW_DT_DTC_FAILED with dtc's
 * message, file and line on any error or warning.
 */
export async function compileOverlay(
  source: string,
  output: string,
  run: RunFn = runCommand,
): Promise<void> {
  const res = await run('dtc', ['-@', '-I', 'dts', '-O', 'dtb', '-o', output, source]);
  const warned = /Warning/.test(res.stderr);
  if (res.code !== 0 || warned) {
    const diags = parseDtcDiagnostics(res.stderr, source);
    const where = diags[0] ? `${diags[0].file}:${diags[0].line}` : source;
    throw dtError(
      'EDGEFLOW_DT_DTC_FAILED',
      `dtc ${warned && res.code === 0 ? 'warned (warnings are errors)' : 'failed'} on ${where}: ${
        diags.map((d) => `${d.file}:${d.line}: ${d.message}`).join('; ') || res.stderr.trim()
      }`,
    );
  }
}
