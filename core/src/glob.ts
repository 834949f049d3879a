/**
 * Matches `value` against a shell-style pattern where `*` stands for any run of characters
 * (none included) and everything else is literal, ignoring case: how board profiles name the
 * device-tree `compatible` strings they accept (`rockchip,rk3588*`). The whole value must match.
 */
export function globMatch(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'is').test(value);
}
