/**
 * What "the source's content" is for `ParallelTransfer`: a SHA-256 over the sorted list of
 * regular files with their size and either their mtime (whole seconds) or their content hash.
 * The same listing is taken of the destination on its host (GNU find/sha256sum), so a copy
 * that completed (the engine sets each file's mtime to the source's) fingerprints equal, and
 * a destination edited or removed by hand does not.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Host } from "../../core/connection";

export type ChangeDetection = "mtime" | "sha256";

export interface FileLine {
  /** Path relative to the root ("" when the root is a file). */
  rel: string;
  size: number;
  /** Whole seconds (mtime mode) or SHA-256 hex (sha256 mode). */
  stamp: string;
}

export function fingerprintOf(lines: FileLine[]): string {
  const sorted = [...lines].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const h = crypto.createHash("sha256");
  for (const l of sorted) h.update(`${l.rel}\t${l.size}\t${l.stamp}\n`);
  return `${lines.length}:${h.digest("hex")}`;
}

function fileHash(p: string): string {
  const h = crypto.createHash("sha256");
  const fd = fs.openSync(p, "r");
  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** The listing of a local source (followed if the root is a symlink; links inside are skipped, as find -type f does). */
export function listLocal(root: string, mode: ChangeDetection): FileLine[] {
  const out: FileLine[] = [];
  const visit = (abs: string, rel: string, st: fs.Stats) => {
    if (st.isFile()) out.push({ rel, size: st.size, stamp: mode === "sha256" ? fileHash(abs) : String(Math.floor(st.mtimeMs / 1000)) });
    else if (st.isDirectory()) {
      for (const n of fs.readdirSync(abs)) visit(path.join(abs, n), rel ? `${rel}/${n}` : n, fs.lstatSync(path.join(abs, n)));
    }
  };
  visit(root, "", fs.statSync(root));
  return out;
}

/** The same listing of a path on a host; `undefined` when it does not exist. */
export async function listRemote(host: Host, root: string, mode: ChangeDetection): Promise<FileLine[] | undefined> {
  const exists = await host.run(["test", "-e", root], { check: false });
  if (exists.code !== 0) return undefined;
  const r = await host.run(["find", root, "-type", "f", "-printf", "%P\\t%s\\t%T@\\n"]);
  const lines: FileLine[] = r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [rel, size, t] = l.split("\t");
      return { rel, size: Number(size), stamp: String(Math.floor(Number(t))) };
    });
  if (mode === "sha256" && lines.length) {
    const isFile = lines.length === 1 && lines[0].rel === "";
    const paths = lines.map((l) => (isFile ? root : path.posix.join(root, l.rel)));
    const h = await host.run(["sha256sum", "--", ...paths]);
    const sums = h.stdout.split("\n").filter(Boolean).map((l) => l.slice(0, 64));
    lines.forEach((l, i) => (l.stamp = sums[i]));
  }
  return lines;
}
