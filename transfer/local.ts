/** A local or mounted path (NFS/SMB/virtiofs mount) as a copy destination. */
import * as fs from "fs";
import * as path from "path";
import { Destination, DestStat, PartFile } from "./destination";
import { classify } from "./errors";

export class LocalDestination implements Destination {
  readonly kind = "local" as const;
  readonly label = "local";
  constructor(readonly streams: number) {}

  async stat(p: string): Promise<DestStat | undefined> {
    try {
      const st = await fs.promises.stat(p);
      return { size: st.size, mtimeMs: st.mtimeMs, isDirectory: st.isDirectory() };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw classify(e, "destination", p);
    }
  }

  async readText(p: string): Promise<string | undefined> {
    try {
      return await fs.promises.readFile(p, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw classify(e, "destination", p);
    }
  }

  async writeTextAtomic(p: string, text: string): Promise<void> {
    const tmp = `${p}.tmp`;
    try {
      await fs.promises.writeFile(tmp, text);
      await fs.promises.rename(tmp, p);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      throw classify(e, "destination", p);
    }
  }

  async openPart(p: string, size: number, fresh: boolean): Promise<PartFile> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(p, fresh ? "w+" : fs.constants.O_RDWR | fs.constants.O_CREAT);
      const st = await fh.stat();
      if (st.size !== size) await fh.truncate(size);
    } catch (e) {
      throw classify(e, "destination", p);
    }
    return {
      write: async (buf, length, position) => {
        let done = 0;
        while (done < length) {
          const { bytesWritten } = await fh.write(buf, done, length - done, position + done).catch((e) => {
            throw classify(e, "destination", p);
          });
          done += bytesWritten;
        }
      },
      read: async (buf, length, position) => {
        const { bytesRead } = await fh.read(buf, 0, length, position);
        return bytesRead;
      },
      sync: () => fh.sync().catch((e) => Promise.reject(classify(e, "destination", p))),
      close: () => fh.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    await fs.promises.rename(from, to).catch((e) => Promise.reject(classify(e, "destination", to)));
  }

  async remove(p: string): Promise<void> {
    await fs.promises.rm(p, { force: true });
  }

  async mkdirp(p: string): Promise<void> {
    await fs.promises.mkdir(p, { recursive: true }).catch((e) => Promise.reject(classify(e, "destination", p)));
  }

  async setMtime(p: string, mtimeMs: number): Promise<void> {
    const t = new Date(mtimeMs);
    await fs.promises.utimes(p, t, t);
  }

  async symlink(target: string, p: string): Promise<void> {
    await fs.promises.rm(p, { force: true });
    await fs.promises.symlink(target, p).catch((e) => Promise.reject(classify(e, "destination", p)));
  }

  async freeBytes(dir: string): Promise<number | undefined> {
    try {
      const st = await fs.promises.statfs(dir);
      return st.bavail * st.bsize;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    /* nothing held */
  }
}

/** The directory a destination file lives in. */
export function parentDir(p: string): string {
  return path.posix.dirname(p);
}
