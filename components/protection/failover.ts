/**
 * The failover drill's two steps, as a library (used by `kvmshare failover`):
 *
 * promote: the source host is down; its replica becomes the primary. An interrupted receive is
 *   aborted (its partial stream is discarded: it never was a consistent state), the newest
 *   snapshot is the recovery point (what the guests get back), `readonly` goes off, and on a
 *   host whose mounts cache received data (zfs-fuse) the dataset is remounted. Nothing is rolled
 *   back or destroyed: a replica that is already read-write is left as it is and said so.
 * resync (the way back): the old source, once reachable again, becomes a replica of the
 *   promoted dataset: the same incremental engine as ZfsReplication (`zfs send -i` from the
 *   newest snapshot both share, matched by guid). What the old source holds that never reached
 *   the replica (writes after the last replicated snapshot, snapshots taken since) makes it a
 *   diverged target: refused, naming what would be lost, unless `allowDestroy` (then
 *   `zfs receive -F` discards it). Switching back is a promote of the old source, later.
 */
import { Host } from "../../core/connection";
import { datasetExists, detectZfs, listSnapshots, runZfs, zfsGet } from "../storage";
import { resumeToken, runReplication } from "./zfsReplicationKind";
import { ZfsReplicationSpec } from "./zfsReplicationArgs";

export interface PromoteResult {
  dataset: string;
  /** The recovery point: the newest snapshot, `dataset@snap`. */
  snapshot: string;
  /** Its creation (epoch s): the guests' data is as of then. */
  snapshotCreation: number;
  /** `readonly` was on and is now off (false: it was already read-write). */
  madeWritable: boolean;
  /** An interrupted receive was aborted first. */
  abortedPartialReceive: boolean;
  mountpoint: string | null;
  seconds: number;
}

export async function promoteReplica(host: Host, dataset: string, log: (m: string) => void = () => undefined): Promise<PromoteResult> {
  const t0 = Date.now();
  if (!(await datasetExists(host, dataset))) throw new Error(`<replica>: ${JSON.stringify(dataset)} does not exist on ${host.label}; name the replication's target dataset`);
  const info = await detectZfs(host);
  let aborted = false;
  if (await resumeToken(host, info, dataset)) {
    await runZfs(host, ["zfs", "receive", "-A", dataset]);
    log(`aborted the interrupted receive into ${dataset} (a partial stream is not a consistent state)`);
    aborted = true;
  }
  const snaps = await listSnapshots(host, dataset);
  const newest = [...snaps].sort((a, b) => a.createtxg - b.createtxg).pop();
  if (!newest) throw new Error(`<replica>: ${dataset} on ${host.label} has no snapshot: nothing was ever replicated into it, so there is no consistent state to promote`);
  const props = (await zfsGet(host, [dataset], ["readonly", "mountpoint"])).get(dataset);
  // "off" from a mount option ("temporary": zfs-fuse remounts read-write) still has readonly=on set.
  const ro = props?.readonly;
  const madeWritable = !(ro?.value === "off" && ro.source !== "temporary");
  if (madeWritable) await runZfs(host, ["zfs", "set", "readonly=off", dataset]);
  else log(`${dataset} was already read-write (promoted before, or readonlyTarget: false); left as it is, nothing rolled back`);
  // The guests must find the recovery point where the export serves it: zfs-fuse serves stale
  // pages from a mount that received, so it is unmounted and mounted again ("busy" retried);
  // a dataset that cannot be mounted is an error, not a warning.
  const until = async (argv: string[], ok: (r: { code: number; stderr: string }) => boolean) => {
    for (let i = 0; ; i++) {
      const r = await host.run(argv, { check: false });
      if (ok(r)) return;
      // zfs-fuse stays "busy" for a while under load (a receive killed with the source is still being torn down).
      if (i >= 120) throw new Error(`<replica>: ${dataset} is promoted (read-write) but '${argv.join(" ")}' failed on ${host.label}: ${r.stderr.trim()}. Mount it by hand before the shares point at it`);
      await new Promise((res) => setTimeout(res, 500));
    }
  };
  if (props?.mountpoint?.value?.startsWith("/")) {
    if (!info.features.coherentReceive) await until(["zfs", "umount", dataset], (r) => r.code === 0 || /not currently mounted|not mounted/.test(r.stderr));
    await until(["zfs", "mount", dataset], (r) => r.code === 0 || /already mounted/.test(r.stderr));
  }
  const mp = props?.mountpoint?.value;
  const r: PromoteResult = {
    dataset,
    snapshot: newest.name,
    snapshotCreation: newest.creation,
    madeWritable,
    abortedPartialReceive: aborted,
    mountpoint: mp && mp.startsWith("/") ? mp : null,
    seconds: (Date.now() - t0) / 1000,
  };
  log(`promoted ${dataset} on ${host.label}: read-write at ${newest.snap} (${new Date(newest.creation * 1000).toISOString()}) in ${r.seconds.toFixed(2)} s`);
  return r;
}

/** The replication spec of the way back: the promoted dataset to the old source. */
export function resyncSpec(o: { promoted: string; oldSource: string; name?: string; allowDestroy?: boolean }): ZfsReplicationSpec {
  return { name: o.name ?? "failback", source: o.promoted, target: o.oldSource, allowDestroy: o.allowDestroy === true, readonlyTarget: true, keepSnapshots: 2, resumable: "auto", intervalMinutes: 0 };
}

/**
 * Resync the old source from the promoted replica (see the file's comment). `promotedHost` holds
 * the promoted dataset, `oldHost` the old source (both may be the same machine).
 */
export async function resyncOldSource(
  promotedHost: Host,
  oldHost: Host,
  o: { promoted: string; oldSource: string; name?: string; allowDestroy?: boolean; log?: (m: string) => void },
): Promise<void> {
  await runReplication(promotedHost, oldHost, resyncSpec(o), o.log ?? (() => undefined));
}
