import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The packaging tier's mode from EDGEFLOW_PACKAGE_TESTS: `0` (off), `1` (the bounded CI tier:
 * the amd64 package scenario) or `full` (also the emulated arm64 scenario, ~10 min more).
 * scripts/test-ci.sh sets it after building the packages (docs/install.md "Testing").
 */
export function packagingMode(): 'off' | 'bounded' | 'full' {
  const v = process.env.EDGEFLOW_PACKAGE_TESTS;
  return v === 'full' ? 'full' : v === '1' ? 'bounded' : 'off';
}

/** Whether the mode asks for the package scenario of `arch` (then a missing tool is a failure in CI). */
export function packagingWanted(arch: 'amd64' | 'arm64'): boolean {
  const mode = packagingMode();
  return arch === 'amd64' ? mode !== 'off' : mode === 'full';
}

/** Why the package system tests of `arch` cannot run here, or undefined when they can. */
export function packagingMissing(arch: 'amd64' | 'arm64'): string | undefined {
  // Building, installing and booting the packages takes minutes on the 2-core CI machine, and the
  // arm64 scenario runs every arm64 process under qemu-user: both are opt-in by mode.
  if (packagingMode() === 'off')
    return 'set EDGEFLOW_PACKAGE_TESTS=1 (or full) to build, install and boot the .deb packages';
  if (!packagingWanted(arch))
    return 'the emulated arm64 package scenario is the long mode: EDGEFLOW_PACKAGE_TESTS=full';
  if (process.getuid?.() !== 0) return 'needs root (systemd-nspawn, mmdebstrap)';
  const tools = ['systemd-nspawn', 'nsenter', 'mmdebstrap', 'dpkg-buildpackage', 'dh'];
  if (arch === 'arm64') tools.push('qemu-aarch64-static', 'aarch64-linux-gnu-gcc');
  for (const tool of tools)
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `needs ${tool}: run scripts/install-deps.sh`;
  return undefined;
}

function run(argv: string[], what: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

/** The digest of the committed sources a release tree is built from (packaging/source-digest.sh). */
function sourceDigest(): string {
  return run(['bash', 'packaging/source-digest.sh'], 'source digest');
}

/**
 * The release tree and .deb files of `arch` for `versions`, built with the project's own packaging
 * (packaging/build-release.sh, build-deb.sh) unless `npm run package` already built them from the
 * same committed sources (CI does, for 1.0.0, just before the tests: the shipped xz package).
 * Packages built here are compressed with gzip -1 (--fast): the same dpkg-buildpackage run, ~1 s
 * of compression instead of ~45 s of CPU. Returns build/package/<arch>.
 */
export function ensurePackages(arch: 'amd64' | 'arm64', versions: readonly string[]): string {
  const out = join(repo, 'build', 'package', arch);
  const buildJson = join(out, 'release', 'build.json');
  const fresh =
    existsSync(buildJson) &&
    (JSON.parse(readFileSync(buildJson, 'utf8')) as { source?: string }).source === sourceDigest();
  if (!fresh) run(['bash', 'packaging/build-release.sh', '--arch', arch], `release tree ${arch}`);
  for (const v of versions) {
    const deb = join(out, `edgeflow_${v}_${arch}.deb`);
    if (fresh && existsSync(deb) && statSync(deb).mtimeMs >= statSync(buildJson).mtimeMs) continue;
    run(
      ['bash', 'packaging/build-deb.sh', '--arch', arch, '--version', v, '--fast'],
      `edgeflow_${v}_${arch}.deb`,
    );
  }
  return out;
}

/** The cached Debian 12 root filesystem for `arch` (scripts/rootfs.sh, built on first use). */
export function rootfs(arch: 'amd64' | 'arm64'): string {
  return run(['bash', 'scripts/rootfs.sh', arch], `rootfs ${arch}`).split('\n').pop()!;
}
