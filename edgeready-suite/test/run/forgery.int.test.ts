// Case 4 of issue 14: a failing run's report, edited to pass and re-bound to the device by a
// fresh quote from its own agent (the forger holds the API token), must not verify. Each
// deeper forgery (the evidence chain edited, re-hashed, re-anchored with new quotes) is
// rejected by the step that names it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { QuoteResponse } from 'node-tpm2';
import { startSwtpm, tpmTestsMissing } from 'node-tpm2/testing';
import { AgentClient } from '../../src/agent/agent-http.js';
import { defaultEdgeflowCli } from '../../src/agent/edgeflow-cli.js';
import { startOwnAgent, stopAgent } from '../../src/agent/agent-process.js';
import { judgeExec } from '../../src/checks/judge.js';
import { anchorNonce } from '../../src/evidence/anchors.js';
import { GENESIS, linkHash, parseChain } from '../../src/evidence/chain.js';
import type { EvidenceRecord } from '../../src/evidence/records.js';
import { EvidenceView } from '../../src/evidence/view.js';
import { readArchive } from '../../src/report/archive-tar.js';
import {
  contentPart,
  finishArchive,
  CONTENT_FILES,
  type Attestation,
} from '../../src/report/archive.js';
import { judgedPart, type Report } from '../../src/report/build.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJunit } from '../../src/report/junit.js';
import { seriesText } from '../../src/report/write.js';
import { artifacts, edgeready } from './helpers.js';

type Files = Record<(typeof CONTENT_FILES)[number], Buffer>;

/** Rebuilds a chain file from records, re-hashing every link (what a forger can compute). */
async function rehash(
  records: EvidenceRecord[],
  requote?: (head: string) => Promise<QuoteResponse>,
): Promise<string> {
  let prev = GENESIS;
  let text = '';
  for (let r of records) {
    if (r.k === 'anchor' && requote && r.response) {
      const nonce = anchorNonce(prev);
      r = { ...r, head: prev, nonce: nonce.toString('hex'), response: await requote(prev) };
    }
    const json = JSON.stringify(r);
    const h = linkHash(prev, json);
    text += `{"h":"${h}","r":${json}}\n`;
    prev = h;
  }
  return text;
}

/** Re-judges forged records so each execution agrees with its (forged) raw evidence. */
function rejudged(records: EvidenceRecord[], agentLog: Buffer): EvidenceRecord[] {
  const view = new EvidenceView();
  return records.map((r) => {
    let out = r;
    if (r.k === 'exec' && view.run) {
      const o = judgeExec(r.id, view.input(r.raw, view.run.options, r.phase, agentLog));
      out = {
        ...r,
        status: o.status,
        detail: o.detail,
        evidence: JSON.parse(JSON.stringify(o.evidence)) as Record<string, unknown>,
      };
    }
    view.observe(out);
    return out;
  });
}

test(
  'forged reports: edited to pass and re-quoted through the agent, they do not verify',
  { timeout: 600_000 },
  async (t) => {
    const missing = tpmTestsMissing();
    if (missing) {
      t.skip(missing);
      return;
    }
    const tpm = await startSwtpm();
    t.after(() => tpm.stop());
    const out = join(artifacts, 'forgery-run');
    await rm(out, { recursive: true, force: true });
    // A run that fails for a real reason: a p99 limit no device meets.
    const run = edgeready([
      'run',
      '--mode',
      'functional',
      '--out',
      out,
      '--board',
      'sim',
      '--tcti',
      tpm.tcti,
      '--p99-limit',
      '0.001',
    ]);
    assert.equal(await run.exited, 1, run.stderr());
    const genuine = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report;
    assert.equal(genuine.verdict, 'fail');
    assert.equal(genuine.checks.find((c) => c.id === 'ER-MQTT-LATENCY')?.status, 'fail');
    const archive = join(out, `edgeready-${genuine.erId}.tar`);
    const enrolment = join(out, 'state', 'enrolment.json');
    const ok = edgeready(['verify-report', archive, '--enrolment', enrolment]);
    assert.equal(await ok.exited, 0, ok.stderr());

    // The forger starts the device's agent again (same TPM, same AK) and holds its token.
    const work = await mkdtemp(join(tmpdir(), 'er-forge-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const agent = await startOwnAgent({
      cliPath: defaultEdgeflowCli() ?? '',
      configFile: join(out, 'state', 'agent-config.json'),
      dataDir: join(work, 'data'),
      logFile: join(work, 'agent.log'),
      bootId: 'forger',
    });
    t.after(() => stopAgent(agent.pid));
    const token = (await readFile(join(out, 'state', 'agent-token'), 'utf8')).trim();
    const client = new AgentClient(`http://127.0.0.1:${agent.httpPort}`, undefined, 30_000, token);
    for (
      let i = 0;
      i < 600 && (await client.request('/v1/attestation/identity')).status !== 200;
      i++
    )
      await new Promise((r) => setTimeout(r, 100)); // the agent provisions its AK at start
    const quote = async (nonce: Buffer): Promise<QuoteResponse> =>
      (await client.quote({
        nonce: nonce.toString('hex'),
        pcrs: genuine.options.pcrs,
        bank: 'sha256',
      })) as QuoteResponse;

    const entries = await readArchive(await readFile(archive));
    const files = Object.fromEntries(
      entries.filter((e) => e.name !== 'attestation.json').map((e) => [e.name, e.data]),
    ) as Files;
    const att = JSON.parse(
      (entries.at(-1)?.data ?? Buffer.alloc(0)).toString('utf8'),
    ) as Attestation & { bound: true };
    /** Writes an archive of `f`, bound by a fresh quote over its digest, and verifies it. */
    const forge = async (name: string, f: Files): Promise<{ code: number | null; out: string }> => {
      const report = JSON.parse(f['report.json'].toString('utf8')) as Report;
      const mtime = Math.floor(Date.parse(report.finishedAt) / 1000);
      const { bytes, digest } = await contentPart(
        CONTENT_FILES.map((n) => ({ name: n, data: f[n] })),
        mtime,
      );
      const bound: Attestation = {
        ...att,
        nonce: digest.toString('hex'),
        response: await quote(digest),
      };
      const file = join(work, `${name}.tar`);
      await writeFile(file, await finishArchive(bytes, bound, mtime));
      const v = edgeready(['verify-report', file, '--enrolment', enrolment]);
      let text = '';
      v.child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
      const code = await v.exited;
      t.diagnostic(
        `${name}: exit ${String(code)}: ${text
          .split('\n')
          .filter((l) => l.startsWith('fail'))
          .join(' | ')}`,
      );
      return { code, out: text };
    };
    /** report.json edited to pass, junit/html rendered again so only the evidence disagrees. */
    const passing = (r: Report): Files => {
      const edited: Report = {
        ...r,
        verdict: 'pass (simulated)',
        summary: { ...r.summary, fail: 0, pass: r.summary.pass + r.summary.fail },
        checks: r.checks.map((c) => (c.status === 'fail' ? { ...c, status: 'pass' } : c)),
      };
      const view = new EvidenceView();
      for (const e of parseChain(files['evidence.jsonl'].toString('utf8')).entries)
        view.observe(e.record);
      return {
        ...files,
        'report.json': Buffer.from(`${JSON.stringify(edited, null, 2)}\n`),
        'junit.xml': Buffer.from(renderJunit(edited)),
        'report.html': Buffer.from(renderHtml(edited, view.samples)),
      };
    };

    // A: the case: report edited, re-quoted. The verdict is recomputed from the evidence.
    const a = await forge('report-edited', passing(genuine));
    assert.equal(a.code, 1);
    // The first check the forger flipped (ER-MQTT-LATENCY, or one the loaded box failed too).
    assert.match(
      a.out,
      /fail verdict: report.json disagrees with its evidence: ER-[A-Z0-9-]+ is fail by the evidence, the report says pass/,
    );

    // B: the execution record edited in the chain as well: the hash links break.
    const chain = files['evidence.jsonl'].toString('utf8');
    const records = parseChain(chain).entries.map((e) => e.record);
    const flipped = records.map((r) =>
      r.k === 'exec' && r.status === 'fail' ? { ...r, status: 'pass' as const } : r,
    );
    const lines = chain.split('\n');
    const bad = records.findIndex((r) => r.k === 'exec' && r.status === 'fail');
    lines[bad] = lines[bad]?.replace('"status":"fail"', '"status":"pass"') ?? '';
    const b = await forge('exec-edited', {
      ...passing(genuine),
      'evidence.jsonl': Buffer.from(lines.join('\n')),
    });
    assert.equal(b.code, 1);
    assert.match(b.out, /fail evidence: evidence line \d+: hash does not match/);
    assert.ok(flipped.length === records.length);

    // C: the options relaxed in the run record, every execution re-judged, the chain re-hashed:
    // the anchors' quotes name heads that no longer exist.
    const relaxed = rejudged(
      records.map((r) =>
        r.k === 'run' ? { ...r, options: { ...r.options, p99LimitMs: 500 } } : r,
      ),
      files['agent.log'],
    );
    const viewC = new EvidenceView();
    relaxed.forEach((r) => viewC.observe(r));
    const reportC: Report = {
      ...genuine,
      options: { ...genuine.options, p99LimitMs: 500 },
      ...judgedPart(viewC),
    };
    const filesC: Files = {
      ...files,
      'evidence.jsonl': Buffer.from(await rehash(relaxed)),
      'report.json': Buffer.from(`${JSON.stringify(reportC, null, 2)}\n`),
      'junit.xml': Buffer.from(renderJunit(reportC)),
      'report.html': Buffer.from(renderHtml(reportC, viewC.samples)),
      'timeseries.jsonl': Buffer.from(seriesText(viewC)),
    };
    const c = await forge('rehashed', filesC);
    assert.equal(c.code, 1);
    assert.match(c.out, /fail anchors: anchor at line \d+ .*(head|nonce)/);

    // D: as C, and every anchor quoted again now over the new heads: the signatures verify, but
    // the TPM clock shows the evidence was written in seconds, not over the run.
    const requoted = await rehash(relaxed, (head) => quote(anchorNonce(head)));
    const viewD = new EvidenceView();
    for (const e of parseChain(requoted).entries) viewD.observe(e.record);
    const d = await forge('reanchored', { ...filesC, 'evidence.jsonl': Buffer.from(requoted) });
    assert.equal(d.code, 1);
    assert.match(d.out, /pass anchors/);
    assert.match(d.out, /ER-SYS-CONTINUITY.*TPM clock proves/);
  },
);
