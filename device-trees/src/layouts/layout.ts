/** What every boot-configuration layout implements. All functions are pure text transforms. */
export interface LayoutContext {
  /** Path of an installed overlay as the bootloader sees it (Jetson: absolute, /boot/...). */
  readonly bootPath: (overlay: string) => string;
  /** DTB to name in a new Jetson entry when the default entry has no FDT line. */
  readonly fdtCandidates: readonly string[];
  /** Expected Armbian `fdtfile` basename for the board, to catch an overlay for another board. */
  readonly dtbName?: string;
}

export interface BootLayout {
  /** Names of EdgeFlow overlays the config enables, in order. Throws when unparseable. */
  installed(text: string, ctx: LayoutContext): string[];
  /** The config with `overlay` enabled (unchanged text when it already is). */
  add(text: string, overlay: string, ctx: LayoutContext): string;
  /** The config with `overlay` disabled (unchanged text when it was not enabled). */
  remove(text: string, overlay: string, ctx: LayoutContext): string;
}

/** Split keeping the knowledge of a final newline, so edits round-trip byte for byte. */
export function toLines(text: string): { lines: string[]; eol: boolean } {
  if (text === '') return { lines: [], eol: true };
  const eol = text.endsWith('\n');
  return { lines: (eol ? text.slice(0, -1) : text).split('\n'), eol };
}

export function fromLines(lines: readonly string[], eol: boolean): string {
  if (lines.length === 0) return '';
  return lines.join('\n') + (eol ? '\n' : '');
}
