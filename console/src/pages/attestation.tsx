import { useState } from 'preact/hooks';
import type { AttestationView } from '../api/types.js';
import { ErrorNote, usePoll } from '../components/hooks.js';
import { formatTime, shortId } from '../lib/format.js';

type Check = NonNullable<AttestationView['check']>;

function Identity({ v }: { v: AttestationView }) {
  const id = v.identity;
  return (
    <div class="card">
      <h2>Identity</h2>
      {id ? (
        <dl>
          <dt>EK</dt>
          <dd class="mono" title={id.ekSha256}>
            {id.ekType.toUpperCase()} sha256 {shortId(id.ekSha256)}
          </dd>
          <dt>EK certificate</dt>
          <dd>{id.ekCertificate ? 'present' : 'none in NV'}</dd>
          <dt>AK name</dt>
          <dd class="mono" title={id.akName}>
            {shortId(id.akName)}
          </dd>
          <dt>AK handle</dt>
          <dd class="mono">{id.akHandle}</dd>
        </dl>
      ) : (
        <p class="muted">No TPM identity.</p>
      )}
    </div>
  );
}

function Steps({ c }: { c: Check }) {
  return (
    <div class="card">
      <h2>Checks</h2>
      <ul class="checks">
        {c.steps.map((s) => (
          <li key={s.name}>
            <span class={s.status === 'pass' ? 'ok' : s.status === 'fail' ? 'bad' : 'muted'}>
              {s.status.toUpperCase()}
            </span>{' '}
            <code>{s.name}</code> {s.detail}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Pcrs({ c }: { c: Check }) {
  return (
    <div class="card scroll-x">
      <h2>
        PCRs {c.policy.source ? `against ${c.policy.source}` : '(no golden policy configured)'}
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
  );
}

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
      {data?.error ? (
        <p class="banner warn">
          {data.error.code}: {data.error.message}
        </p>
      ) : null}
      {data ? (
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
          <Identity v={data} />
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
      ) : error ? null : (
        <p class="muted">Quoting…</p>
      )}
      {c ? (
        <div class="charts">
          <Steps c={c} />
          <Pcrs c={c} />
        </div>
      ) : null}
    </section>
  );
}
