// Worker thread of the console's EdgeReady verification: loads the suite's own verifier and runs
// it on the archive, off the agent's event loop (hashing and parsing a large archive would
// otherwise stall MQTT ingest for as long as it takes).
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  readonly archive: string;
  readonly enrolment: string;
}

type VerifyReport = (archive: string, enrolment: string) => Promise<unknown>;

async function run(job: Job): Promise<unknown> {
  // The specifier is a variable: @edgeflow/edgeready depends on the agent, so the agent cannot
  // reference it at build time; at run time it is the installed sibling package.
  const specifier = '@edgeflow/edgeready';
  let mod: { verifyReport?: VerifyReport };
  try {
    mod = (await import(specifier)) as { verifyReport?: VerifyReport };
  } catch (err) {
    return { kind: 'unavailable', message: (err as Error).message };
  }
  if (typeof mod.verifyReport !== 'function')
    return { kind: 'unavailable', message: `${specifier} has no verifyReport export` };
  try {
    return { kind: 'verdict', verdict: await mod.verifyReport(job.archive, job.enrolment) };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    return {
      kind: 'error',
      code: typeof e.code === 'string' ? e.code : undefined,
      message: typeof e.message === 'string' ? e.message : String(err),
    };
  }
}

void run(workerData as Job).then((r) => parentPort?.postMessage(r));
