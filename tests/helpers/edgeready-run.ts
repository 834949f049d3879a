// A real EdgeReady report archive, made by the suite itself (a short functional run on the
// simulator board with a software TPM): what the console's EdgeReady page must verify.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const edgereadyCli = fileURLToPath(
  new URL('../../../edgeready-suite/dist/src/cli.js', import.meta.url),
);

export interface ReportRun {
  readonly archive: string;
  readonly enrolment: string;
  readonly seconds: number;
}

/** `edgeready run --mode functional` into `out`; resolves with the archive and enrolment paths. */
export async function edgereadyRun(out: string, tcti: string): Promise<ReportRun> {
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [
      edgereadyCli,
      'run',
      '--mode',
      'functional',
      '--duration',
      '20s',
      '--out',
      out,
      '--board',
      'sim',
      '--tcti',
      tcti,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const tar = (await readdir(out)).find((n) => n.endsWith('.tar'));
  if (tar === undefined)
    throw new Error(`edgeready run made no archive (exit ${String(code)}): ${log.slice(-3000)}`);
  return {
    archive: join(out, tar),
    enrolment: join(out, 'state', 'enrolment.json'),
    seconds: (Date.now() - t0) / 1000,
  };
}
