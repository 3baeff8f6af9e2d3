// Object bytes on disk: written to a temp file, fsynced, renamed into place, then the directory fsynced.
// Only after that does a metadata row point at them, so a crash never leaves a half object visible.
import { randomUUID } from 'node:crypto';
import { createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class ObjectFiles {
  private readonly tmpDir: string;

  constructor(readonly root: string) {
    this.tmpDir = join(root, 'tmp');
  }

  /**
   * Creates the directories and removes temp files of uploads that never finished: all of them when this process
   * owns the directory alone, else only those untouched for `olderThanMs` (a replica may be mid-upload).
   */
  async init(olderThanMs = 0): Promise<number> {
    await mkdir(this.tmpDir, { recursive: true });
    let removed = 0;
    const cutoff = Date.now() - olderThanMs;
    for (const name of await readdir(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      try {
        if (olderThanMs > 0 && (await stat(path)).mtimeMs > cutoff) continue;
        await rm(path, { force: true, recursive: true });
        removed++;
      } catch {
        // gone already
      }
    }
    return removed;
  }

  /** A new temp file for an upload, opened for writing; fsynced when the stream closes. */
  createTemp(): { path: string; stream: WriteStream } {
    const path = join(this.tmpDir, `${randomUUID()}.part`);
    return { path, stream: createWriteStream(path, { flags: 'wx', flush: true }) };
  }

  /** Moves a complete, fsynced temp file to its final place; returns the id metadata rows refer to. */
  async persist(tempPath: string): Promise<string> {
    const id = randomUUID().replace(/-/g, '');
    const dir = join(this.root, id.slice(0, 2));
    await mkdir(dir, { recursive: true });
    await rename(tempPath, join(dir, id));
    await syncDir(dir);
    return id;
  }

  path(id: string): string {
    return join(this.root, id.slice(0, 2), id);
  }

  /** Opens an object's bytes; undefined when the file is gone (deleted after its row was read). */
  async openRead(id: string, range?: { start: number; end: number }): Promise<ReadStream | undefined> {
    try {
      const handle = await open(this.path(id), 'r');
      return handle.createReadStream({ start: range?.start, end: range?.end });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    await unlink(this.path(id)).catch((err) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async discard(tempPath: string): Promise<void> {
    await rm(tempPath, { force: true });
  }

  /** Every object file's id and last change time (temp files excluded). */
  async *list(): AsyncGenerator<{ id: string; mtimeMs: number }> {
    for (const dir of await readdir(this.root).catch(() => [] as string[])) {
      if (dir === 'tmp' || dir.length !== 2) continue;
      for (const id of await readdir(join(this.root, dir)).catch(() => [] as string[])) {
        const info = await stat(join(this.root, dir, id)).catch(() => undefined);
        if (info?.isFile()) yield { id, mtimeMs: info.mtimeMs };
      }
    }
  }

  /** Removes every object file (the admin reset). */
  async removeAll(): Promise<void> {
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      if (name !== 'tmp') await rm(join(this.root, name), { recursive: true, force: true });
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
