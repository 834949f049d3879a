import { z } from 'zod';

/** `http.console`: the web console served at `/` (docs/console.md). */
export const consoleConfigSchema = z
  .strictObject({
    /** Serve the console and its routes (/v1/console/*); false = the API only, no history kept. */
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    /** Event streams open at once (each browser tab holds one); beyond: 503. */
    maxStreams: z
      .number({ error: 'must be an integer 1-256' })
      .int({ error: 'must be an integer 1-256' })
      .min(1, { error: 'must be an integer 1-256' })
      .max(256, { error: 'must be an integer 1-256' })
      .default(16),
    /** Largest EdgeReady report archive accepted for verification, bytes. */
    maxUploadBytes: z
      .number({ error: 'must be an integer 65536-1073741824' })
      .int({ error: 'must be an integer 65536-1073741824' })
      .min(65536, { error: 'must be an integer 65536-1073741824' })
      .max(1073741824, { error: 'must be an integer 65536-1073741824' })
      .default(67108864),
    /**
     * This gateway's enrolment record (`edgeflow attest enroll --out`): the Attestation page and
     * EdgeReady verification check against it. Absent: against the TPM's live identity.
     */
    enrolmentFile: z.string().min(1, { error: 'must be a path' }).optional(),
    /** Golden PCR policy (`edgeflow attest policy --out`) the Attestation page compares with. */
    policyFile: z.string().min(1, { error: 'must be a path' }).optional(),
  })
  .prefault({});

export type ConsoleConfig = z.output<typeof consoleConfigSchema>;
