/**
 * Boot configuration bytes <-> the text the layouts edit, so that every byte outside the lines
 * EdgeFlow writes comes back exactly as it was: the bytes are read as Latin-1 (one character per
 * byte, any byte valid; every marker the layouts look for is ASCII) and written back the same
 * way, and CRLF files are edited as LF and written back with CRLF. A file that mixes both line
 * endings is refused: which one EdgeFlow's lines should use cannot be decided.
 */
import { dtError } from './errors.js';

/** A boot config as the layouts see it: LF-only text plus how to write it back. */
export interface ConfigText {
  readonly text: string;
  readonly eol: '\n' | '\r\n';
}

/** Decodes boot config bytes; throws EDGEFLOW_DT_BOOT_CONFIG_ENCODING on mixed line endings. */
export function decodeConfig(raw: Buffer, file: string): ConfigText {
  const text = raw.toString('latin1');
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  if (crlf > 0 && lf > 0) {
    const first = text.split('\n').findIndex((l, i, a) => i < a.length - 1 && !l.endsWith('\r'));
    throw dtError(
      'EDGEFLOW_DT_BOOT_CONFIG_ENCODING',
      `${file} mixes line endings (${crlf} CRLF, ${lf} LF; line ${first + 1} ends in LF): convert it to one (dos2unix or unix2dos ${file}) and run again; nothing was changed`,
    );
  }
  return crlf > 0 ? { text: text.replace(/\r\n/g, '\n'), eol: '\r\n' } : { text, eol: '\n' };
}

/** Encodes edited text back to bytes with the file's own line endings. */
export function encodeConfig(c: ConfigText, text: string): Buffer {
  return Buffer.from(c.eol === '\r\n' ? text.replace(/\n/g, '\r\n') : text, 'latin1');
}

/**
 * 1-based numbers of the lines (outside comments) that still name the installed overlay
 * `edgeflow-<name>`: a `dtoverlay=` line, a `user_overlays=` token, an `OVERLAYS` path.
 */
export function linesNaming(text: string, name: string): number[] {
  const token = new RegExp(`(^|[^a-z0-9-])edgeflow-${name}([^a-z0-9-]|$)`);
  const out: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (token.test(line.replace(/#.*$/, ''))) out.push(i + 1);
  });
  return out;
}
