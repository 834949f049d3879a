import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `data` to `path` so that a crash or power loss leaves either the old or the new
 * content: write `path.new`, fsync, rename over `path`, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.new`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/** fsync a directory so a rename or a new file in it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
