// The console in real Chromium against the real agent: a software TPM (swtpm), the simulated
// board with a jumper between an output and an input, an OTA root with a release on trial, and a
// real EdgeReady report archive made by the suite. Screenshots of every page at phone and
// desktop size go to tests/build/test-artifacts/console/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { startSwtpm, tpmTestsMissing, type Swtpm } from 'node-tpm2/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { cliPath, startAgent, type AgentProcess } from '../helpers/agent-process.js';
import {
  VIEWPORTS,
  chromiumMissing,
  consoleArtifacts,
  launchChromium,
  runAxe,
  watchedPage,
} from '../helpers/browser.js';
import { edgereadyRun, type ReportRun } from '../helpers/edgeready-run.js';

const TOKEN = createHash('sha256').update('console-browser-test').digest('hex');
const TOKEN_SHA = createHash('sha256').update(TOKEN).digest('hex');

/** Each page, and what shows that it has drawn its data. */
const PAGES = [
  { path: '/', name: 'overview', ready: '#plot-ingest canvas' },
  { path: '/sensors', name: 'sensors', ready: 'tr.row' },
  { path: '/gpio', name: 'gpio', ready: '#gpio-lines' },
  { path: '/updates', name: 'updates', ready: '#rollback-countdown' },
  { path: '/attestation', name: 'attestation', ready: '#attest-result' },
  { path: '/edgeready', name: 'edgeready', ready: '#er-archive' },
] as const;

function edgeflow(args: string[]): string {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `edgeflow ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** An OTA root with 1.0.0 committed and 1.1.0 installed on trial (long probation). */
async function otaRoot(dir: string): Promise<string> {
  const root = join(dir, 'opt');
  const keys = join(dir, 'keys');
  edgeflow(['ota', 'keygen', '--out', keys, '--name', 'test']);
  const common = ['--root', root, '--keys', keys, '--board', 'generic', '--no-restart'];
  for (const [version, extra] of [
    ['1.0.0', ['--commit']],
    ['1.1.0', ['--probation', '600', '--deadline', '900']],
  ] as const) {
    const rel = join(dir, `rel-${version}`);
    await mkdir(rel, { recursive: true });
    await writeFile(join(rel, 'VERSION'), version);
    const bundle = join(dir, `${version}.tar.gz`);
    edgeflow(
      ['ota', 'build', rel, '--out', bundle, '--name', 'edgeflow', '--version', version].concat([
        '--board',
        'generic',
        '--key',
        join(keys, 'test.key'),
      ]),
    );
    edgeflow(['ota', 'install', bundle, ...common, ...extra]);
  }
  return root;
}

/** A light, steady load so the pages have something live to show: 24 sensors, 12 msg/s. */
async function lineFeed(port: number): Promise<{ stop(): Promise<void> }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'line-feed' });
  let n = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < 3; k++, n++) {
      const s = n % 24;
      const v = 20 + 5 * Math.sin(n / 40 + s) + s / 10;
      const unit = s % 3 === 0 ? '%RH' : 'Cel';
      void client.publishAsync(
        `sensors/line${Math.floor(s / 8) + 1}/s${String(s % 8)}`,
        JSON.stringify({ v: Number(v.toFixed(2)), u: unit }),
        { qos: 1 },
      );
    }
  }, 250);
  return {
    async stop() {
      clearInterval(timer);
      await client.endAsync();
    },
  };
}

const skip = chromiumMissing() ?? tpmTestsMissing();

describe('the console in Chromium', { skip, timeout: 600_000 }, () => {
  let dir: string;
  let tpm: Swtpm;
  let agent: AgentProcess;
  let report: ReportRun;
  let browser: Browser;
  let feed: { stop(): Promise<void> } | undefined;
  const base = () => `http://127.0.0.1:${agent.httpPort}`;
  const gpio = async () =>
    ((await (await agent.http('/v1/gpio')).json()) as { lines: { name: string; value?: number }[] })
      .lines;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ef-console-'));
    tpm = await startSwtpm();
    // The suite runs first on the same TPM: its archive is then quoted by "this gateway's TPM".
    report = await edgereadyRun(join(dir, 'er'), tpm.tcti);
    const root = await otaRoot(dir);
    const config = join(dir, 'edgeflow.json');
    await writeFile(
      config,
      JSON.stringify({
        hal: {
          board: 'sim',
          gpio: [
            { name: 'relay', pin: 38, direction: 'output' },
            { name: 'loop', pin: 40, direction: 'input', edge: 'both' },
          ],
        },
        http: { apiTokens: [{ name: 'ops', sha256: TOKEN_SHA }] },
        gpio: { access: { apiTokens: ['ops'] } },
        ota: { root, healthIntervalSec: 1, access: { apiTokens: ['ops'] } },
      }),
    );
    agent = await startAgent({
      dataDir: join(dir, 'data'),
      args: ['--config', config],
      env: { EDGEFLOW_TPM_TCTI: tpm.tcti },
    });
    feed = await lineFeed(agent.mqttPort);
    browser = await launchChromium();
  });

  after(async () => {
    await feed?.stop();
    await browser?.close();
    await agent?.stop();
    await tpm?.stop();
  });

  async function open(
    path: string,
    viewport: { width: number; height: number } = VIEWPORTS.desktop,
  ): Promise<{ ctx: BrowserContext; page: Page; errors: string[] }> {
    const ctx = await browser.newContext({ viewport });
    const { page, errors } = await watchedPage(ctx);
    await page.goto(`${base()}${path}`);
    return { ctx, page, errors };
  }

  it('every page loads without a console error, passes axe-core, and is photographed at phone and desktop size', async (t) => {
    // Wait for the first attestation self-check (swtpm provisions in the background).
    for (let i = 0; i < 100; i++) {
      const a = (await (await agent.http('/v1/console/attestation')).json()) as { check: unknown };
      if (a.check !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const p of PAGES) {
      for (const [size, viewport] of Object.entries(VIEWPORTS)) {
        const { ctx, page, errors } = await open(p.path, viewport);
        await page.waitForSelector(p.ready, { timeout: 20_000 });
        // Let live data arrive (stream hello, first samples) before the picture.
        await page.waitForTimeout(1500);
        const violations = await runAxe(page);
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        t.diagnostic(
          `${p.name} ${size}: axe ${violations.length} finding(s), ${serious.length} serious`,
        );
        for (const v of violations)
          t.diagnostic(`  ${v.impact ?? '?'} ${v.id}: ${v.help} (${v.targets.join(', ')})`);
        await page.screenshot({
          path: join(consoleArtifacts, `${p.name}-${size}.png`),
          fullPage: true,
        });
        assert.deepEqual(serious, [], `${p.name} (${size}): serious accessibility violations`);
        assert.deepEqual(errors, [], `${p.name} (${size}): console errors`);
        await ctx.close();
      }
    }
  });

  it('a QoS 2 reading published with mosquitto_pub appears in the Sensors table without a reload', async (t) => {
    const { ctx, page, errors } = await open('/sensors?q=browser');
    await page.waitForSelector('.live.on');
    const origin = await page.evaluate(() => performance.timeOrigin);
    // An integer of three digits shows as itself (no thousands separator, no decimals).
    const value = String(100 + Math.floor(Math.random() * 900));
    const t0 = Date.now();
    const pub = spawnSync('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(agent.mqttPort),
      '-q',
      '2',
      '-t',
      'sensors/browser/probe',
      '-m',
      value,
    ]);
    assert.equal(pub.status, 0, String(pub.stderr));
    const cell = page.locator('tr[data-key="browser/probe"] td.value');
    await cell.waitFor({ timeout: 10_000 });
    await page.waitForFunction(
      (v) => document.querySelector('tr[data-key="browser/probe"] td.value')?.textContent === v,
      value,
    );
    // Measured, not asserted (no timing assertions in tests): the figure is in the closing note.
    t.diagnostic(`publish → visible in the table: ${Date.now() - t0} ms`);
    assert.equal(await page.evaluate(() => performance.timeOrigin), origin, 'no reload happened');
    assert.equal(
      await page.locator('tr[data-key="browser/probe"] td').nth(6).textContent(),
      '1',
      'seq 1',
    );
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  it('the Overview plots draw their series on the canvas', async () => {
    const { ctx, page, errors } = await open('/');
    await page.waitForSelector('#plot-ingest canvas');
    // Two samples at least, so a line exists.
    await page.waitForTimeout(2500);
    const drawn = await page.evaluate(() => {
      const out: Record<string, { painted: number; series: number }> = {};
      const stroke = getComputedStyle(document.documentElement)
        .getPropertyValue('--chart-1')
        .trim();
      const rgb =
        /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i
          .exec(stroke)
          ?.slice(1)
          .map((h) => parseInt(h, 16)) ?? [];
      for (const id of ['plot-ingest', 'plot-latency', 'plot-cpu', 'plot-memory', 'plot-disk']) {
        const c = document.querySelector<HTMLCanvasElement>(`#${id} canvas`);
        const g = c?.getContext('2d');
        if (!c || !g) continue;
        const px = g.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        let series = 0;
        for (let i = 0; i < px.length; i += 4) {
          if ((px[i + 3] ?? 0) > 0) painted++;
          const [r, gg, b] = [px[i] ?? 0, px[i + 1] ?? 0, px[i + 2] ?? 0];
          if (
            Math.abs(r - (rgb[0] ?? -99)) < 30 &&
            Math.abs(gg - (rgb[1] ?? -99)) < 30 &&
            Math.abs(b - (rgb[2] ?? -99)) < 30
          )
            series++;
        }
        out[id] = { painted, series };
      }
      return out;
    });
    for (const id of ['plot-ingest', 'plot-latency', 'plot-cpu', 'plot-memory', 'plot-disk']) {
      assert.ok((drawn[id]?.painted ?? 0) > 0, `${id}: the canvas is not empty`);
      assert.ok(
        (drawn[id]?.series ?? 0) > 20,
        `${id}: the first series is drawn (${JSON.stringify(drawn[id])})`,
      );
    }
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  it('a GPIO output switched in the UI changes the simulated line with the token and is refused without it', async () => {
    assert.deepEqual(
      (await gpio()).map((l) => [l.name, l.value]),
      [
        ['relay', 0],
        ['loop', 0],
      ],
    );
    const { ctx, page } = await open('/gpio');
    const relay = page.getByRole('switch', { name: 'relay output' });
    await relay.waitFor();
    // No token: the page asks for one and sends nothing.
    await relay.click();
    await page.waitForSelector('dialog[open]');
    await page.getByRole('button', { name: 'Cancel' }).click();
    // A wrong token: the agent refuses (401) and the line stays.
    await page.getByRole('button', { name: 'Enter token' }).first().click();
    await page.getByLabel('Token', { exact: true }).fill('f'.repeat(64));
    await page.getByRole('button', { name: 'Use token' }).click();
    await relay.click();
    await page.waitForSelector('p.banner.error');
    assert.match(
      (await page.locator('p.banner.error').first().textContent()) ?? '',
      /EDGEFLOW_HTTP_UNAUTHORIZED/,
    );
    await page.waitForSelector('dialog[open]');
    assert.deepEqual(
      (await gpio()).map((l) => l.value),
      [0, 0],
      'refused: relay and loop unchanged',
    );
    // The right token: the output goes high, and the input wired to it by the board's jumper
    // (pin 38 → 40) follows, with a rising edge on the page.
    await page.getByLabel('Token', { exact: true }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await relay.click();
    await page.waitForFunction(
      () =>
        document
          .querySelector('[role="switch"][aria-label="relay output"]')
          ?.getAttribute('aria-checked') === 'true',
    );
    assert.deepEqual(
      (await gpio()).map((l) => [l.name, l.value]),
      [
        ['relay', 1],
        ['loop', 1],
      ],
    );
    await page.waitForSelector('#gpio-edges li');
    assert.match((await page.locator('#gpio-edges').textContent()) ?? '', /loop rising/);
    await page.screenshot({
      path: join(consoleArtifacts, 'gpio-switched-desktop.png'),
      fullPage: true,
    });
    await ctx.close();
  });

  it('an OTA trial shows its countdown, and commits from the page with the token', async () => {
    const { ctx, page, errors } = await open('/updates');
    const countdown = page.locator('#rollback-countdown');
    await countdown.waitFor();
    const seconds = async () => {
      const m = /(?:(\d+) min )?(\d+) s/.exec((await countdown.textContent()) ?? '');
      return Number(m?.[1] ?? 0) * 60 + Number(m?.[2] ?? NaN);
    };
    assert.match((await page.locator('#trial').textContent()) ?? '', /1\.1\.0/);
    const first = await seconds();
    // The page's countdown is the agent's deadline (both read the agent's clock).
    const v = (await (await agent.http('/v1/console/ota')).json()) as {
      now: number;
      deadlineAt: number;
    };
    const expected = (v.deadlineAt - v.now) / 1000;
    assert.ok(Math.abs(first - expected) < 10, `page says ${first} s, the agent ${expected} s`);
    assert.ok(first <= 900, 'within the 900 s deadline');
    await page.waitForFunction((s) => {
      const m = /(?:(\d+) min )?(\d+) s/.exec(
        document.querySelector('#rollback-countdown')?.textContent ?? '',
      );
      return Number(m?.[1] ?? 0) * 60 + Number(m?.[2] ?? NaN) < s;
    }, first);
    await page.getByRole('button', { name: 'Enter token' }).first().click();
    await page.getByLabel('Token', { exact: true }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('button', { name: 'Commit now' }).click();
    await page.waitForSelector('text=committed: the root-side check finalises it');
    const trialReport = JSON.parse(await readFile(join(dir, 'data', 'ota-trial.json'), 'utf8')) as {
      committedAt: string | null;
    };
    assert.notEqual(trialReport.committedAt, null);
    assert.ok(agent.logs.some((l) => l.event === 'console.ota_commit'));
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  it('the Attestation page shows a quote of this TPM verified, with the PCR values', async () => {
    const { ctx, page, errors } = await open('/attestation');
    await page.waitForSelector('#attest-result');
    assert.equal(await page.locator('#attest-result').textContent(), 'Verified');
    assert.equal(await page.locator('#pcr-table tbody tr').count(), 9, 'PCRs 0-7 and 23');
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  it('a real EdgeReady archive is verified and rendered; a forged one is shown as rejected', async (t) => {
    t.diagnostic(`edgeready functional run: ${report.seconds.toFixed(1)} s`);
    const forged = join(dir, 'forged.tar');
    await copyFile(report.archive, forged);
    const bytes = await readFile(forged);
    // Change one byte inside report.json (the first member's data starts at byte 512).
    const at = bytes.indexOf('"verdict"', 512);
    assert.ok(at > 0);
    bytes[at + 1] = 'V'.charCodeAt(0);
    await writeFile(forged, bytes);

    const { ctx, page, errors } = await open('/edgeready');
    // Against this gateway's TPM (the suite ran on the same one).
    await page.setInputFiles('#er-archive', report.archive);
    await page.getByRole('button', { name: 'Verify and open' }).click();
    await page.waitForSelector('#er-result');
    assert.equal(await page.locator('#er-result').getAttribute('data-ok'), 'true');
    assert.match((await page.locator('#er-result').textContent()) ?? '', /Verified: ER-/);
    assert.match((await page.locator('#er-result').textContent()) ?? '', /live identity/);
    await page.waitForSelector('#er-checks tbody tr');
    assert.ok((await page.locator('#er-checks tbody tr').count()) > 10, 'the checks are listed');
    assert.ok((await page.locator('figure.chart-card canvas').count()) >= 2, 'the plots are drawn');
    await page.screenshot({
      path: join(consoleArtifacts, 'edgeready-verified-desktop.png'),
      fullPage: true,
    });

    // The forged copy, against the suite's own enrolment record (uploaded).
    await page.setInputFiles('#er-archive', forged);
    await page.setInputFiles('#er-enrolment', report.enrolment);
    await page.getByRole('button', { name: 'Verify and open' }).click();
    await page.waitForSelector('#er-result[data-ok="false"]');
    const text = (await page.locator('#er-result').textContent()) ?? '';
    assert.match(text, /Rejected: contentDigest/);
    assert.match(text, /uploaded enrolment record/);
    assert.equal(await page.locator('#er-checks').count(), 0, 'a rejected report is not rendered');
    await page.screenshot({
      path: join(consoleArtifacts, 'edgeready-rejected-desktop.png'),
      fullPage: true,
    });
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  it('the Content-Security-Policy blocks injected script', async () => {
    const { ctx, page } = await open('/');
    await page.waitForSelector('#plot-ingest');
    const r = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        violations.push(e.effectiveDirective),
      );
      let sinkError = '';
      try {
        document.body.insertAdjacentHTML('beforeend', '<img src="x" onerror="window.__pwned = 1">');
      } catch (err) {
        sinkError = (err as Error).name;
      }
      const s = document.createElement('script');
      s.appendChild(document.createTextNode('window.__pwned = 2'));
      document.body.appendChild(s);
      await new Promise((res) => setTimeout(res, 300));
      return {
        sinkError,
        violations,
        pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
      };
    });
    assert.equal(r.pwned, null, 'no injected code ran');
    assert.equal(r.sinkError, 'TypeError', 'Trusted Types refuse an HTML string');
    assert.ok(r.violations.length > 0, `a CSP violation was reported (${r.violations.join(', ')})`);
    await ctx.close();
  });

  it('is keyboard navigable: skip link first, then the pages', async () => {
    const { ctx, page } = await open('/', VIEWPORTS.phone);
    await page.waitForSelector('#plot-ingest');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    await page.keyboard.press('Shift+Tab');
    for (let i = 0; i < 10; i++) {
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Sensors') break;
      await page.keyboard.press('Shift+Tab');
    }
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Sensors');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/sensors$/);
    await page.waitForSelector('tr.row');
    await ctx.close();
  });
});
