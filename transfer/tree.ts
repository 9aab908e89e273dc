/** Walk a source path into the list of things to recreate at the destination. */
import * as fs from "fs";
import * as path from "path";
import { classify } from "./errors";

export interface SourceEntry {
  /** Path relative to the copy's root, POSIX separators; "" for a single-file copy. */
  rel: string;
  abs: string;
  type: "file" | "dir" | "symlink";
  size: number;
  mtimeMs: number;
  mode: number;
  /** Symlink target. */
  target?: string;
}

/** Every entry under `root` (itself first), directories before their contents, sorted by name. */
export async function walkSource(root: string): Promise<SourceEntry[]> {
  const out: SourceEntry[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    let st: fs.Stats;
    try {
      // The root is followed when it is a symlink (as cp does); links inside are kept as links.
      st = rel === "" ? await fs.promises.stat(abs) : await fs.promises.lstat(abs);
    } catch (e) {
      throw classify(e, "source", abs);
    }
    const base = { rel, abs, size: 0, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777 };
    if (st.isSymbolicLink()) {
      out.push({ ...base, type: "symlink", target: await fs.promises.readlink(abs) });
    } else if (st.isDirectory()) {
      out.push({ ...base, type: "dir" });
      let names: string[];
      try {
        names = (await fs.promises.readdir(abs)).sort();
      } catch (e) {
        throw classify(e, "source", abs);
      }
      for (const n of names) await visit(path.join(abs, n), rel ? `${rel}/${n}` : n);
    } else if (st.isFile()) {
      out.push({ ...base, type: "file", size: st.size });
    }
    // sockets, fifos, devices: not copied
  };
  const st = await fs.promises.stat(root).catch((e) => {
    throw classify(e, "source", root);
  });
  if (!st.isFile() && !st.isDirectory()) throw classify({ message: "not a regular file or directory" }, "source", root);
  await visit(path.resolve(root), "");
  return out;
}
