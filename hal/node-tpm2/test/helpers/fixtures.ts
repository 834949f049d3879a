import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { QuoteResponse } from '../../src/attest/protocol.js';
import type { EnrolmentRecord } from '../../src/attest/records.js';

/** One recorded device (see test/fixtures/record.ts). */
export interface RecordedCase {
  enrolment: EnrolmentRecord;
  requested: { bank: string; pcrs: number[] };
  quotes: { nonce: string; response: QuoteResponse }[];
}

/** Recorded swtpm quotes per AK scheme: rsassa, rsapss, ecdsa. */
export function loadRecorded(): Record<'rsassa' | 'rsapss' | 'ecdsa', RecordedCase> {
  // Compiled to dist/test/helpers; the JSON stays in the source tree.
  const path = fileURLToPath(new URL('../../../test/fixtures/quotes.json', import.meta.url));
  return (
    JSON.parse(readFileSync(path, 'utf8')) as {
      cases: Record<'rsassa' | 'rsapss' | 'ecdsa', RecordedCase>;
    }
  ).cases;
}
