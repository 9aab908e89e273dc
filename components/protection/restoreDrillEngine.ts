/**
 * The restore drill: proves a backup can be restored and is byte-identical to what was backed up.
 *
 * 1. Pick the snapshot: the newest snapshot of the target whose guid the source also has (or the
 *    one named), so both sides hold the same point in time.
 * 2. Clone it on the target (`zfs clone -o readonly=on -o mountpoint=<temp dir>`) into a temporary
 *    dataset `<pool>/kvmshare-drill-t-<time>` next to nothing of the user's, and the same snapshot
 *    on the source (`-s-`): what a restore would actually read.
 * 3. Build a checksum manifest on each side: sha256 of every regular file, sorted by path
 *    (`find -type f -print0 | sort -z | xargs -0 sha256sum`, run with the paths as positional
 *    parameters); a file that cannot be read (a checksum error: EIO) is listed as unreadable.
 * 4. Compare: match when every path is on both sides with the same hash and nothing is unreadable.
 * 5. Destroy both clones and their mount directories, whatever happened.
 */
import { Host } from "../../core/connection";
import { datasetExists, listSnapshots, runZfs, SnapshotInfo } from "../storage";
import { snapshotStamp } from "../storage";

export interface DrillOptions {
  /** Source dataset (on the source host). */
  source: string;
  /** Target dataset (on the target host). */
  target: string;
  /** Snapshot name (after '@') to check. @default the newest one both sides share (by guid) */
  snapshot?: string;
  log?(message: string): void;
}

export type DrillResult = {
  /** The snapshot compared (after '@'). */
  snapshot: string;
  match: boolean;
  /** Files in the source snapshot. */
  files: number;
  /** Files whose content differs. */
  mismatched: string[];
  /** In the source snapshot, not in the target's. */
  missing: string[];
  /** In the target's, not in the source's. */
  extra: string[];
  /** Files a side could not read (e.g. a checksum error), with the side: `target:./a`. */
  unreadable: string[];
  /** When the drill ran (ISO UTC) and how long it took. */
  at: string;
  seconds: number;
};

/** sha256 of every regular file under $1, sorted by path (bytewise); errors on stderr. */
const MANIFEST = 'cd -- "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum --';

export interface Manifest {
  files: Map<string, string>;
  unreadable: string[];
}

/** Parse `sha256sum` output (and its complaints about unreadable files). */
export function parseManifest(stdout: string, stderr: string): Manifest {
  const files = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = /^\\?([0-9a-f]{64}) [ *](.*)$/.exec(line);
    if (m) files.set(line.startsWith("\\") ? m[2].replace(/\\n/g, "\n").replace(/\\\\/g, "\\") : m[2], m[1]);
  }
  const unreadable: string[] = [];
  for (const line of stderr.split("\n")) {
    const m = /^sha256sum: (.*): [^:]+$/.exec(line.trim());
    if (m) unreadable.push(m[1]);
  }
  return { files, unreadable };
}

/** Compare two manifests. */
export function compareManifests(src: Manifest, dst: Manifest): Pick<DrillResult, "files" | "mismatched" | "missing" | "extra" | "unreadable" | "match"> {
  const mismatched: string[] = [];
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [p, h] of src.files) {
    const other = dst.files.get(p);
    if (other === undefined) {
      if (!dst.unreadable.includes(p)) missing.push(p);
    } else if (other !== h) mismatched.push(p);
  }
  for (const p of dst.files.keys()) if (!src.files.has(p) && !src.unreadable.includes(p)) extra.push(p);
  const unreadable = [...src.unreadable.map((p) => `source:${p}`), ...dst.unreadable.map((p) => `target:${p}`)];
  return {
    files: src.files.size + src.unreadable.length,
    mismatched,
    missing,
    extra,
    unreadable,
    match: !mismatched.length && !missing.length && !extra.length && !unreadable.length,
  };
}

/** The snapshot to drill: the named one (same guid on both sides), else the newest shared one. */
export function pickSnapshot(src: SnapshotInfo[], dst: SnapshotInfo[], wanted?: string): string {
  const srcGuids = new Map(src.map((s) => [s.guid, s.snap]));
  if (wanted !== undefined) {
    const t = dst.find((s) => s.snap === wanted);
    if (!t) throw new Error(`snapshot: '${wanted}' is not on the target; pick one of ${dst.map((s) => s.snap).join(", ") || "(none)"}`);
    if (srcGuids.get(t.guid) !== wanted) throw new Error(`snapshot: '${wanted}' on the target is not the source's (guid ${t.guid} differs or is missing there): the target was not replicated from this source`);
    return wanted;
  }
  for (let i = dst.length - 1; i >= 0; i--) if (srcGuids.has(dst[i].guid)) return dst[i].snap;
  throw new Error("the target shares no snapshot with the source (by guid): nothing to drill; replicate first");
}

async function cloneAndHash(host: Host, dataset: string, snap: string, side: "s" | "t", stamp: string, log: (m: string) => void): Promise<{ manifest: Manifest; cleanup: () => Promise<void> }> {
  const pool = dataset.split("/")[0];
  const clone = `${pool}/kvmshare-drill-${side}-${stamp}`;
  const dir = (await host.run(["mktemp", "-d", `/tmp/kvmshare-drill-${side}.XXXXXX`])).stdout.trim();
  let cloned = false;
  const cleanup = async () => {
    if (cloned) await runZfs(host, ["zfs", "destroy", clone]).catch((e) => log(`could not destroy ${clone} on ${host.label}: ${(e as Error).message}`));
    await host.run(["rmdir", "--", dir], { check: false });
  };
  try {
    await runZfs(host, ["zfs", "clone", "-o", "readonly=on", "-o", `mountpoint=${dir}`, `${dataset}@${snap}`, clone]);
    cloned = true;
    // zfs-fuse mounts a new clone lazily: make sure it is there before reading.
    await host.run(["zfs", "mount", clone], { check: false });
    const r = await host.run(["sh", "-c", MANIFEST, "sh", dir], { check: false, timeoutMs: 6 * 3600_000 });
    return { manifest: parseManifest(r.stdout, r.stderr), cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Run the drill; clones are destroyed before it returns or throws. */
export async function runRestoreDrill(src: Host, dst: Host, opts: DrillOptions): Promise<DrillResult> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  if (!(await datasetExists(src, opts.source))) throw new Error(`source: '${opts.source}' does not exist on ${src.label}`);
  if (!(await datasetExists(dst, opts.target))) throw new Error(`target: '${opts.target}' does not exist on ${dst.label}; replicate first`);
  const snap = pickSnapshot(await listSnapshots(src, opts.source), await listSnapshots(dst, opts.target), opts.snapshot);
  const stamp = snapshotStamp(new Date()).toLowerCase() + "-" + process.pid;
  log(`restore drill: ${opts.target}@${snap} on ${dst.label} against ${opts.source}@${snap} on ${src.label}`);
  const a = await cloneAndHash(src, opts.source, snap, "s", stamp, log);
  try {
    const b = await cloneAndHash(dst, opts.target, snap, "t", stamp, log);
    try {
      const cmp = compareManifests(a.manifest, b.manifest);
      const result: DrillResult = { snapshot: snap, ...cmp, at: new Date(t0).toISOString(), seconds: (Date.now() - t0) / 1000 };
      log(`restore drill: ${result.match ? "MATCH" : "MISMATCH"}: ${result.files} files, ${result.mismatched.length} differ, ${result.missing.length} missing, ${result.extra.length} extra, ${result.unreadable.length} unreadable`);
      return result;
    } finally {
      await b.cleanup();
    }
  } finally {
    await a.cleanup();
  }
}
