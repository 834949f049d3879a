import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * Structured JSON logs to stdout (journald keeps them under systemd). One root logger per
 * process; components take `log.child({ component })`. Never pass secrets as fields:
 * the redact list is a safety net, not a licence.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'edgeflow-agent' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
