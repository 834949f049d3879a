import { open } from 'node:fs/promises';

/** Makes a directory's entries (a created or renamed file) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
