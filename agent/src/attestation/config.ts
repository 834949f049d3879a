import { z } from 'zod';

/**
 * `attestation` section of the agent configuration. The lead mounts it in the agent schema as
 * `attestation: attestationConfigSchema`. The TCTI comes from here, else EDGEFLOW_TPM_TCTI,
 * else the kernel resource manager `device:/dev/tpmrm0`.
 */
export const attestationConfigSchema = z
  .strictObject({
    /** Provision keys and serve /v1/attestation/* (false: endpoints answer 503 "disabled"). */
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    /** TCTI as tpm2-tools take it: `device:/dev/tpmrm0`, `swtpm:host=127.0.0.1,port=2321`. */
    tcti: z.string().min(1, { error: 'must be a TCTI string' }).optional(),
    /** EK template: TCG default RSA 2048 (L-1) or ECC NIST P-256 (L-2). */
    ekType: z.enum(['rsa', 'ecc'], { error: 'must be rsa or ecc' }).default('rsa'),
    /** AK signing scheme; default rsassa for an RSA EK, ecdsa for an ECC EK. */
    akScheme: z
      .enum(['rsassa', 'rsapss', 'ecdsa'], { error: 'must be rsassa, rsapss or ecdsa' })
      .optional(),
    /** Persistent handle of the AK (owner persistent range). */
    akHandle: z
      .number()
      .int({ error: 'must be a persistent handle 0x81000000-0x817FFFFF' })
      .min(0x81000000, { error: 'must be a persistent handle 0x81000000-0x817FFFFF' })
      .max(0x817fffff, { error: 'must be a persistent handle 0x81000000-0x817FFFFF' })
      .default(0x81010002),
    /** Resettable PCR that receives SHA-256(release) at start (PC Client: 16 debug, 23 application). */
    releasePcr: z.union([z.literal(16), z.literal(23)], { error: 'must be 16 or 23' }).default(23),
    /**
     * Who may ask for quotes and credential activation (both make the TPM sign or decrypt with
     * keys of this device): API tokens by name (http.apiTokens) on HTTP, MQTT users by name
     * (mqtt.auth.users) on `edgeflow/<device>/attestation/quote`. Empty lists: refused for all.
     * GET /v1/attestation/identity (public keys only) stays open.
     */
    access: z
      .strictObject({
        apiTokens: z.array(z.string().min(1).max(64)).max(64).default([]),
        mqttUsers: z.array(z.string().min(1).max(128)).max(64).default([]),
      })
      .prefault({}),
  })
  .prefault({});

/** Validated attestation configuration. */
export type AttestationConfig = z.output<typeof attestationConfigSchema>;

/** Which TCTI the agent uses: config, then EDGEFLOW_TPM_TCTI, then the kernel RM. */
export function resolveTcti(config: AttestationConfig, env: NodeJS.ProcessEnv): string {
  return config.tcti ?? env['EDGEFLOW_TPM_TCTI'] ?? 'device:/dev/tpmrm0';
}
