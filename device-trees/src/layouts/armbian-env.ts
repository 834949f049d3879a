/**
 * Armbian `armbianEnv.txt`, imported by U-Boot with `env import -t`: one `key=value` per line.
 * User overlays are `user_overlays=a b` naming /boot/overlay-user/<name>.dtbo. When the file
 * names the board's DTB (`fdtfile=`), it must be this board's: an overlay for one RK3588 board
 * on another would enable pins wired to something else.
 */
import { installedName } from '../boards.js';
import { dtError } from '../errors.js';
import { fromLines, toLines, type BootLayout, type LayoutContext } from './layout.js';

const FILE = 'armbianEnv.txt';
const KEY = 'user_overlays=';

interface Parsed {
  lines: string[];
  eol: boolean;
  overlayLine: number;
  tokens: string[];
}

function parse(text: string, ctx: LayoutContext): Parsed {
  const { lines, eol } = toLines(text);
  let overlayLine = -1;
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    if (!/^[A-Za-z0-9_.-]+=/.test(line)) {
      throw dtError(
        'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
        `${FILE}:${i + 1}: not a key=value line: ${JSON.stringify(line)}; refusing to edit it`,
      );
    }
    if (line.startsWith(KEY)) {
      if (overlayLine >= 0) {
        throw dtError(
          'EDGEFLOW_DT_BOOT_CONFIG_UNPARSEABLE',
          `${FILE}:${i + 1}: second user_overlays= line (U-Boot keeps only the last); refusing to guess which one counts`,
        );
      }
      overlayLine = i;
    }
    if (line.startsWith('fdtfile=') && ctx.dtbName) {
      const base = line.slice('fdtfile='.length).trim().split('/').pop();
      if (base !== ctx.dtbName) {
        throw dtError(
          'EDGEFLOW_DT_WRONG_BOARD',
          `${FILE}:${i + 1}: this system boots ${JSON.stringify(base)}, not ${ctx.dtbName}: the overlay is for another board`,
        );
      }
    }
  });
  const tokens =
    overlayLine >= 0
      ? lines[overlayLine]!.slice(KEY.length)
          .split(/\s+/)
          .filter((s) => s !== '')
      : [];
  return { lines, eol, overlayLine, tokens };
}

const PREFIX = 'edgeflow-';

export const armbianEnvLayout: BootLayout = {
  installed(text, ctx) {
    return parse(text, ctx)
      .tokens.filter((t) => t.startsWith(PREFIX))
      .map((t) => t.slice(PREFIX.length));
  },
  add(text, overlay, ctx) {
    const p = parse(text, ctx);
    const name = installedName(overlay);
    if (p.tokens.includes(name)) return text;
    if (p.overlayLine >= 0) {
      p.lines[p.overlayLine] = KEY + [...p.tokens, name].join(' ');
      return fromLines(p.lines, p.eol);
    }
    return fromLines([...p.lines, KEY + name], true);
  },
  remove(text, overlay, ctx) {
    const p = parse(text, ctx);
    const name = installedName(overlay);
    if (!p.tokens.includes(name)) return text;
    const rest = p.tokens.filter((t) => t !== name);
    // The line EdgeFlow added holds only EdgeFlow overlays: drop it when the last one goes.
    if (rest.length === 0) p.lines.splice(p.overlayLine, 1);
    else p.lines[p.overlayLine] = KEY + rest.join(' ');
    return fromLines(p.lines, p.eol);
  },
};
