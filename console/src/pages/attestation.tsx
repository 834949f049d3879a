import type { AttestationView } from '../api/types.js';
import { ErrorNote, usePoll } from '../components/hooks.js';
import { formatTime, shortId } from '../lib/format.js';
import { useState } from 'preact/hooks';

/**
 * The TPM's identity, the last quote the agent took of itself and verified, and the PCR values
 * against the golden policy (when one is configured).
 */
export function Attestation() {
  const [refresh, setRefresh] = useState(0);
  const { data, error } = usePoll<AttestationView>(
    refresh > 0 ? `/v1/console/attestation?refresh=${refresh}` : '/v1/console/attestation',
    0,
  );
  const c = data?.check;
  return (
    <section aria-labelledby="h-attest">
      <div class="toolbar">
        <h1 id="h-attest">Attestation</h1>
        <button type="button" onClick={() => setRefresh(Date.now())}>
          Quote and verify again
        </button>
      </div>
      <ErrorNote error={error} />
      {data ? (
        <>
          {data.error ? (
            <p class="banner warn">
              {data.error.code}: {data.error.message}
            </p>
          ) : null}
          <div class="grid">
            <div class="card">
              <h2>TPM</h2>
              <dl>
                <dt>State</dt>
                <dd>{data.status.state}</dd>
                <dt>Detail</dt>
                <dd class="muted">{data.status.detail}</dd>
              </dl>
            </div>
            <div class="card">
              <h2>Identity</h2>
              {data.identity ? (
                <dl>
                  <dt>EK</dt>
                  <dd class="mono" title={data.identity.ekSha256}>
                    {data.identity.ekType.toUpperCase()} sha256 {shortId(data.identity.ekSha256)}
                  </dd>
                  <dt>EK certificate</dt>
                  <dd>{data.identity.ekCertificate ? 'present' : 'none in NV'}</dd>
                  <dt>AK name</dt>
                  <dd class="mono" title={data.identity.akName}>
                    {shortId(data.identity.akName)}
                  </dd>
                  <dt>AK handle</dt>
                  <dd class="mono">{data.identity.akHandle}</dd>
                </dl>
              ) : (
                <p class="muted">No TPM identity.</p>
              )}
            </div>
            <div class="card">
              <h2>Last quote</h2>
              {c ? (
                <>
                  <p class={c.ok ? 'ok big' : 'bad big'} id="attest-result">
                    {c.ok ? 'Verified' : 'Failed'}
                  </p>
                  <p class="muted">
                    {formatTime(c.at)}, {c.bank}, against {c.enrolment}
                  </p>
                </>
              ) : (
                <p class="muted">No quote taken.</p>
              )}
            </div>
          </div>
          {c ? (
            <div class="charts">
              <div class="card">
                <h2>Checks</h2>
                <ul class="checks">
                  {c.steps.map((s) => (
                    <li key={s.name}>
                      <span
                        class={s.status === 'pass' ? 'ok' : s.status === 'fail' ? 'bad' : 'muted'}
                      >
                        {s.status.toUpperCase()}
                      </span>{' '}
                      <code>{s.name}</code> {s.detail}
                    </li>
                  ))}
                </ul>
              </div>
              <div class="card scroll-x">
                <h2>
                  PCRs{' '}
                  {c.policy.source ? `against ${c.policy.source}` : '(no golden policy configured)'}
                </h2>
                <table class="plain" id="pcr-table">
                  <thead>
                    <tr>
                      <th scope="col">PCR</th>
                      <th scope="col">Value</th>
                      <th scope="col">Golden</th>
                      <th scope="col">Match</th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.policy.rows.map((r) => (
                      <tr key={r.pcr} class={r.match === false ? 'bad' : ''}>
                        <td>{r.pcr}</td>
                        <td class="mono" title={r.actual ?? ''}>
                          {r.actual ? shortId(r.actual, 10) : 'not quoted'}
                        </td>
                        <td class="mono" title={r.expected ?? ''}>
                          {r.expected ? shortId(r.expected, 10) : '–'}
                        </td>
                        <td class={r.match === false ? 'bad' : r.match ? 'ok' : 'muted'}>
                          {r.match === null ? '–' : r.match ? 'yes' : 'DIFFERS'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          ) : null}
        </>
      ) : error ? null : (
        <p class="muted">Quoting…</p>
      )}
    </section>
  );
}
