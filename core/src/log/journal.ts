import { fstatSync } from 'node:fs';

/**
 * syslog priorities (RFC 5424 §6.2.1) for pino's levels, as journald reads them from a `<N>`
 * line prefix (systemd.exec(5) `SyslogLevelPrefix=`, on by default): `journalctl -p warning`
 * then selects warn and worse. trace and debug both map to debug (7): syslog has no lower one.
 */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2; // fatal → crit
  if (level >= 50) return 3; // error → err
  if (level >= 40) return 4; // warn → warning
  if (level >= 30) return 6; // info → info
  return 7; // debug, trace → debug
}

/** What `isJournalStream` needs from the world (injected in tests). */
export interface JournalProbe {
  env: NodeJS.ProcessEnv;
  fstat?: (fd: number) => { dev: number | bigint; ino: number | bigint };
}

/**
 * True when `fd` is the stream systemd connected to the journal. systemd.exec(5): "JOURNAL_STREAM
 * … contains the device and inode numbers of the file descriptor … formatted in decimal, separated
 * by a colon"; a program compares them with fstat() of its stdout/stderr, because the variable is
 * inherited by children whose output may go elsewhere (a pipe, a file).
 */
export function isJournalStream(fd: number, probe: JournalProbe): boolean {
  const value = probe.env.JOURNAL_STREAM;
  if (value === undefined) return false;
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  if (m === null) return false;
  try {
    const st = (probe.fstat ?? ((n: number) => fstatSync(n, { bigint: true })))(fd);
    return BigInt(st.dev) === BigInt(m[1] as string) && BigInt(st.ino) === BigInt(m[2] as string);
  } catch {
    return false;
  }
}
