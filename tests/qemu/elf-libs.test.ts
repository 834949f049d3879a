// initramfs.sh copies the host libraries of node and of every native addon into the guest.
// A prebuild for another platform is skipped by its ELF header; a file of the host's platform
// that ldd cannot resolve stops the build instead of leaving the guest without its libraries.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../../tests/qemu/elf-libs.sh', import.meta.url));
const node = process.execPath;

/** copy_libs on one file into a fresh stage: exit status, log lines, the stage. */
function copyLibs(file: string): { status: number | null; log: string; stage: string } {
  const stage = mkdtempSync(join(tmpdir(), 'ef-stage-'));
  const r = spawnSync(
    'bash',
    [
      '-c',
      `set -euo pipefail; log() { echo "$*" >&2; }; . "$1"; copy_libs "$2"`,
      'sh',
      script,
      file,
    ],
    { env: { ...process.env, stage }, encoding: 'utf8' },
  );
  return { status: r.status, log: r.stderr, stage };
}

/** An ELF header of a 64-bit little-endian file for `machine` (e_machine, 2 bytes LE). */
function elfHeader(machine: number): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(b);
  b.writeUInt16LE(3, 16); // ET_DYN
  b.writeUInt16LE(machine, 18);
  return b;
}

const hostMachine = readFileSync(node).readUInt16LE(18);

test('node: its libraries are copied at their host paths', (t) => {
  const r = copyLibs(node);
  t.after(() => rmSync(r.stage, { recursive: true, force: true }));
  assert.equal(r.status, 0, r.log);
  const ldd = spawnSync('ldd', [node], { encoding: 'utf8' }).stdout;
  const libc = /\s(\/\S*libc\.so\.6)\s/.exec(ldd)?.[1];
  assert.ok(libc, ldd);
  assert.ok(existsSync(join(r.stage, libc)), `${libc} staged`);
});

test('a prebuild for another machine or another C library is skipped, by its header', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ef-elf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // aarch64 on an x86-64 host, x86-64 on an aarch64 one.
  const foreign = join(dir, 'foreign.node');
  writeFileSync(foreign, elfHeader(hostMachine === 0x3e ? 0xb7 : 0x3e));
  const musl = join(dir, 'musl.node');
  writeFileSync(
    musl,
    Buffer.concat([elfHeader(hostMachine), Buffer.from('\0libc.musl-x86_64.so.1\0')]),
  );
  const macho = join(dir, 'darwin.node');
  writeFileSync(macho, Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]));
  for (const [file, why] of [
    [foreign, /\(\w{4}\/gnu, not the host's \w{4}\/gnu/],
    [musl, /\/musl, not the host's \w{4}\/gnu/],
    [macho, /\(not-elf, not the host's/],
  ] as const) {
    const r = copyLibs(file);
    rmSync(r.stage, { recursive: true, force: true });
    assert.equal(r.status, 0, r.log);
    assert.match(r.log, /^skipping .*: a prebuild for another platform\)$/m);
    assert.match(r.log, why);
  }
});

test('a file of the host platform that ldd cannot read stops the build', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ef-elf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const truncated = join(dir, 'truncated.node');
  writeFileSync(truncated, readFileSync(node).subarray(0, 64)); // the host's header, nothing else
  const r = copyLibs(truncated);
  rmSync(r.stage, { recursive: true, force: true });
  assert.equal(r.status, 1);
  assert.match(r.log, /ldd failed on .*truncated\.node, a file for this platform: /);
});

test('a file of the host platform that needs a library the host lacks stops the build', (t) => {
  const cc = ['cc', 'gcc-12', 'gcc'].find((c) => spawnSync(c, ['--version']).status === 0);
  if (cc === undefined) {
    t.skip('needs a C compiler to build a library with a missing dependency');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ef-elf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = join(dir, 'x.c');
  writeFileSync(c, 'int x(void) { return 1; }\n');
  const build = (args: string[]) => {
    const r = spawnSync(cc, args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  build(['-shared', '-fPIC', '-o', join(dir, 'libgone.so'), c]);
  build([
    '-shared',
    '-fPIC',
    '-o',
    join(dir, 'addon.node'),
    c,
    `-L${dir}`,
    '-Wl,--no-as-needed',
    '-lgone',
  ]);
  rmSync(join(dir, 'libgone.so'));
  const r = copyLibs(join(dir, 'addon.node'));
  rmSync(r.stage, { recursive: true, force: true });
  assert.equal(r.status, 1);
  assert.match(
    r.log,
    /addon\.node needs libraries this host does not have: +libgone\.so => not found/,
  );
});
