import type { Report } from './build.js';

// XML 1.0 forbids control characters other than tab, LF and CR, even escaped.
function stripControl(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) out += ch;
  }
  return out;
}

function esc(s: string): string {
  return stripControl(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** junit.xml: one testsuite per category, one testcase per check. */
export function renderJunit(r: Report): string {
  const cats = [...new Set(r.checks.map((c) => c.category))];
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="edgeready ${esc(r.erId ?? r.runId)}" tests="${r.checks.length}" failures="${r.summary.fail}" skipped="${r.summary.skip + r.summary.notRun}" time="${r.activeSeconds}">\n`;
  for (const cat of cats) {
    const cs = r.checks.filter((c) => c.category === cat);
    const fails = cs.filter((c) => c.status === 'fail').length;
    const skips = cs.filter((c) => c.status === 'skip' || c.status === 'not-run').length;
    xml += `  <testsuite name="ER-${cat}" tests="${cs.length}" failures="${fails}" skipped="${skips}" timestamp="${esc(r.createdAt)}">\n`;
    for (const c of cs) {
      xml += `    <testcase classname="edgeready.${cat}" name="${esc(`${c.id} ${c.title}`)}">\n`;
      if (c.status === 'fail')
        xml += `      <failure message="${esc(c.detail)}" type="${esc(c.id)}">${esc(c.pass)}</failure>\n`;
      else if (c.status === 'skip' || c.status === 'not-run')
        xml += `      <skipped message="${esc(c.detail)}"/>\n`;
      xml += `      <system-out>${esc(`${c.detail} (pass ${c.counts.pass}, fail ${c.counts.fail}, skip ${c.counts.skip})`)}</system-out>\n    </testcase>\n`;
    }
    xml += '  </testsuite>\n';
  }
  return `${xml}</testsuites>\n`;
}
