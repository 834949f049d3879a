/**
 * Raspberry Pi `config.txt` (bookworm: /boot/firmware/config.txt). EdgeFlow keeps its lines in
 * one marked block at the end of the file, opened with `[all]` so that the conditional filter of
 * the section before it ([cm4], [cm5], [pi5], ...) does not apply to the overlays. Everything
 * outside the block (comments, sections, order) is left byte for byte.
 */
import { installedName } from '../boards.js';
import { dtError } from '../errors.js';
import { fromLines, toLines, type BootLayout } from './layout.js';

export const BEGIN = '# BEGIN edgeflow dt: managed by `edgeflow dt install|remove`, do not edit';
export const END = '# END edgeflow dt';

/** Lines the firmware understands, per Raspberry Pi's config.txt documentation. */
function checkLine(line: string, n: number, file: string): void {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return;
  if (t.includes('\0')) throw unparseable(file, n, line, 'binary data');
  if (t.startsWith('[')) {
    if (!/^\[[^\][]+\]\s*(#.*)?$/.test(t))
      throw unparseable(file, n, line, 'malformed [filter] line');
    return;
  }
  if (/^include\s+\S+$/.test(t)) return;
  if (/^[A-Za-z0-9_][A-Za-z0-9_.:-]*\s*=/.test(t)) return;
  throw unparseable(file, n, line, 'neither key=value, [filter], include nor comment');
}

function unparseable(file: string, n: number, line: string, why: string) {
  return dtError(
    'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
    `${file}:${n}: ${why}: ${JSON.stringify(line)}; refusing to edit it`,
  );
}

interface Parsed {
  lines: string[];
  eol: boolean;
  /** Index of BEGIN and END, when the block exists. */
  block?: { begin: number; end: number };
}

function parse(text: string, file = 'config.txt'): Parsed {
  const { lines, eol } = toLines(text);
  let begin = -1;
  let end = -1;
  lines.forEach((line, i) => {
    checkLine(line, i + 1, file);
    if (line === BEGIN) {
      if (begin >= 0) throw unparseable(file, i + 1, line, 'second EdgeFlow block');
      begin = i;
    } else if (line === END) {
      if (begin < 0 || end >= 0)
        throw unparseable(file, i + 1, line, 'stray end of EdgeFlow block');
      end = i;
    }
  });
  if (begin >= 0 && end < 0) throw unparseable(file, begin + 1, BEGIN, 'EdgeFlow block never ends');
  if (begin < 0) return { lines, eol };
  for (let i = begin + 1; i < end; i++) {
    const l = lines[i]!;
    if (i === begin + 1 && l === '[all]') continue;
    if (!/^dtoverlay=edgeflow-[a-z0-9-]+$/.test(l)) {
      throw unparseable(file, i + 1, l, 'line edited by hand inside the EdgeFlow block');
    }
  }
  return { lines, eol, block: { begin, end } };
}

function names(p: Parsed): string[] {
  if (!p.block) return [];
  return p.lines
    .slice(p.block.begin + 1, p.block.end)
    .filter((l) => l.startsWith('dtoverlay='))
    .map((l) => l.slice('dtoverlay=edgeflow-'.length));
}

export const configTxtLayout: BootLayout = {
  installed(text) {
    return names(parse(text));
  },
  add(text, overlay) {
    const p = parse(text);
    if (names(p).includes(overlay)) return text;
    const line = `dtoverlay=${installedName(overlay)}`;
    if (p.block) {
      p.lines.splice(p.block.end, 0, line);
      return fromLines(p.lines, p.eol);
    }
    // A file without a final newline gets one, or our BEGIN line would glue onto its last line.
    return fromLines([...p.lines, BEGIN, '[all]', line, END], true);
  },
  remove(text, overlay) {
    const p = parse(text);
    if (!p.block || !names(p).includes(overlay)) return text;
    const line = `dtoverlay=${installedName(overlay)}`;
    const idx = p.lines.indexOf(line, p.block.begin);
    p.lines.splice(idx, 1);
    if (names(parse(fromLines(p.lines, p.eol))).length === 0) {
      p.lines.splice(p.block.begin, p.block.end - p.block.begin);
    }
    return fromLines(p.lines, p.eol);
  },
};
