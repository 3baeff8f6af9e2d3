// Group commit for the embedded SQLite store. SQLite runs in WAL mode with synchronous=NORMAL: a commit is appended
// to the -wal file (so it survives the process being killed) but not flushed to disk by itself. `durable()` resolves
// once an fsync of the -wal file that started after the caller's commit has finished, so an acknowledged write also
// survives power loss, while every commit made during one fsync shares the next one instead of paying its own.
// (fsync flushes the file's inode, whichever descriptor asks; SQLite itself syncs the WAL before each checkpoint.)
import { open, type FileHandle } from 'node:fs/promises';

export class WalSync {
  private handle?: Promise<FileHandle | undefined>;
  /** The fsync under way, if any. */
  private running?: Promise<void>;
  /** The fsync that starts when the running one ends; every commit made meanwhile waits for it. */
  private next?: Promise<void>;

  constructor(private readonly walPath: string) {}

  /** Resolves when every commit made before this call is on disk. */
  durable(): Promise<void> {
    if (this.next) return this.next;
    const start = async () => {
      this.next = undefined;
      this.running = this.sync();
      try {
        await this.running;
      } finally {
        this.running = undefined;
      }
    };
    this.next = (this.running ?? Promise.resolve()).then(start, start);
    return this.next;
  }

  private async sync(): Promise<void> {
    this.handle ??= open(this.walPath, 'r').catch((err: NodeJS.ErrnoException) => {
      this.handle = undefined; // no -wal file yet: nothing was written, nothing to flush
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    const handle = await this.handle;
    await handle?.datasync();
  }

  async close(): Promise<void> {
    await this.next?.catch(() => {});
    const handle = await this.handle?.catch(() => undefined);
    this.handle = undefined;
    await handle?.close();
  }
}
