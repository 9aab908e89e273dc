/**
 * Kind: incremental replication of one dataset to another dataset, on the same host or another
 * one (over SSH). Each run that is due takes a source snapshot `<prefix>-<UTC time>` (marked
 * `kvmshare:replication=<name>`), sends it in full the first time and incrementally (`-i` from
 * the newest common snapshot, matched by guid) afterwards, and prunes the replication's own older
 * snapshots on both sides.
 *
 * Safety: a target that diverged (it has snapshots the source lacks, shares none with it, or was
 * written to since the common snapshot) is refused with a clear error before anything is taken,
 * sent or destroyed; `zfs receive -F` is used only with `allowDestroy: true`. The target is set
 * `readonly=on` after the first receive (unless `readonlyTarget: false`) so it cannot drift.
 *
 * `dryRun: true` moves nothing: the plan (full or incremental, from, to, estimated bytes and how
 * they were estimated) is computed by `probe`, logged and returned as the `plan` output.
 */
import { connect, ConnectionSpec, Host, LocalHost } from "../../core/connection";
import { HostKind, Json } from "../../core/hostKind";
import { Problem } from "../../core/errors";
import { connectionProblems } from "../../core/validate";
import { datasetExists, listSnapshots, runZfs, SnapshotInfo, zfsGet } from "../storage";
import { describeZfs, detectZfs, unmet, ZfsInfo } from "../storage";
import { snapshotStamp } from "../storage";
import { replicationPrefix, validateReplicationSpec, ZFS_REPLICATION_DEFAULTS, ZfsReplicationSpec } from "./zfsReplicationArgs";
import { PipeError, pipeCommands, PipeResult } from "./zfsStream";

export const REPLICATION_PROPERTY = "kvmshare:replication";

export type ReplicationPlan = {
  mode: "full" | "incremental" | "resume" | "diverged" | "source-missing";
  /** Source snapshot the increment starts from (incremental), else null. */
  from: string | null;
  /** Source snapshot that would be sent (created first when it does not exist yet). */
  to: string;
  estimatedBytes: number | null;
  estimateMethod: string;
  /** argv of the send and receive commands. */
  send: string[];
  receive: string[];
  /** Why the target diverged (mode "diverged"). */
  reason?: string;
};

export type ZfsReplicationState = {
  /** The replication's own source snapshots, oldest first. */
  sourceSnapshots: string[];
  newestCreation: number;
  targetExists: boolean;
  /** Newest snapshot on the target (name after '@'), null when none. */
  targetLatest: string | null;
  /** The target's newest snapshot is the source's newest own snapshot (same guid). */
  inSync: boolean;
  /** Only with dryRun. */
  plan?: ReplicationPlan;
};

/** The target connection travels in `secrets.targetConnection` (JSON), as it may hold a key. */
export function targetConnectionOf(secrets: Record<string, string>): ConnectionSpec | undefined {
  const raw = secrets.targetConnection;
  return raw ? (JSON.parse(raw) as ConnectionSpec) : undefined;
}

/** `connectionProblems` for the target connection (when its JSON is known), fields renamed. */
export function targetConnectionProblems(secrets: Record<string, string> | undefined): Problem[] {
  if (!secrets?.targetConnection) return [];
  let conn: unknown;
  try {
    conn = targetConnectionOf(secrets);
  } catch {
    return [{ field: "targetConnection", value: undefined, message: "is not a connection object" }];
  }
  return connectionProblems(conn).map((p) => ({ ...p, field: p.field.replace(/^connection/, "targetConnection") }));
}

async function withTarget<T>(secrets: Record<string, string>, fn: (dst: Host) => Promise<T>): Promise<T> {
  const spec = targetConnectionOf(secrets);
  const dst = spec ? await connect(spec) : new LocalHost();
  try {
    return await fn(dst);
  } finally {
    await dst.close();
  }
}

function own(spec: ZfsReplicationSpec, snaps: SnapshotInfo[]): SnapshotInfo[] {
  const p = replicationPrefix(spec) + "-";
  return snaps.filter((s) => s.snap.startsWith(p) && s.props[REPLICATION_PROPERTY]?.value === spec.name && s.props[REPLICATION_PROPERTY]?.source === "local");
}

function useResumable(spec: ZfsReplicationSpec, dstInfo: ZfsInfo): boolean {
  return spec.resumable === true || ((spec.resumable ?? ZFS_REPLICATION_DEFAULTS.resumable) === "auto" && dstInfo.features.resumableReceive);
}

export async function resumeToken(dst: Host, dstInfo: ZfsInfo, target: string): Promise<string | undefined> {
  if (!dstInfo.features.resumableReceive) return undefined;
  const got = await zfsGet(dst, [target], ["receive_resume_token"]);
  const t = got.get(target)?.receive_resume_token?.value;
  return t && t !== "-" ? t : undefined;
}

/**
 * Estimate the bytes of a send. An existing `to` snapshot: `zfs send -nvP` where the host has it.
 * Otherwise (a dry run plans a snapshot that does not exist yet) from space accounting of the
 * dataset as it is now: `logicalreferenced` for a full stream and `written@<base>` for an
 * increment on OpenZFS; `referenced` (and its growth) on zfs-fuse, which has neither.
 */
async function estimate(src: Host, srcInfo: ZfsInfo, source: string, from: SnapshotInfo | undefined, to: string | undefined): Promise<{ bytes: number | null; method: string }> {
  if (srcInfo.features.sendEstimate && to) {
    const argv = ["zfs", "send", "-nvP", ...(from ? ["-i", from.name] : []), `${source}@${to}`];
    const r = await src.run(argv, { check: false });
    const m = /^size\s+(\d+)/m.exec(r.stdout + "\n" + r.stderr);
    if (r.code === 0 && m) return { bytes: Number(m[1]), method: "zfs send -nvP" };
  }
  if (from && srcInfo.features.writtenProperty) {
    const w = await zfsGet(src, [source], [`written@${from.snap}`]);
    const v = w.get(source)?.[`written@${from.snap}`]?.value;
    if (v !== undefined && /^\d+$/.test(v)) return { bytes: Number(v), method: `written@${from.snap} (bytes changed since the base)` };
  }
  if (!from && srcInfo.implementation === "openzfs") {
    const l = await zfsGet(src, [source], ["logicalreferenced"]);
    const v = l.get(source)?.logicalreferenced?.value;
    if (v !== undefined && /^\d+$/.test(v)) return { bytes: Number(v), method: `logicalreferenced of ${source} (the data a full stream carries now)` };
  }
  const names = [source, ...(from ? [from.name] : [])];
  const got = await zfsGet(src, names, ["referenced"]);
  const now = Number(got.get(source)?.referenced?.value ?? NaN);
  if (!from) return { bytes: Number.isFinite(now) ? now : null, method: `referenced bytes of ${source} (${describeZfs(srcInfo)} has no send -nvP)` };
  const then = Number(got.get(from.name)?.referenced?.value ?? NaN);
  return {
    bytes: Number.isFinite(now - then) ? Math.max(0, now - then) : null,
    method: `growth of referenced bytes since ${from.snap} (rough: ${describeZfs(srcInfo)} has no send -nvP or written property; rewrites in place are not counted)`,
  };
}

/**
 * What a run would do now: full, incremental (from the newest common snapshot), resume, or why
 * the target diverged. `to` is the snapshot that would be sent (taken first if it does not exist).
 */
export async function planReplication(src: Host, dst: Host, spec: ZfsReplicationSpec, to: string): Promise<ReplicationPlan> {
  const [srcInfo, dstInfo] = [await detectZfs(src), await detectZfs(dst)];
  const recv = (force: boolean) => ["zfs", "receive", ...(useResumable(spec, dstInfo) ? ["-s"] : []), ...(force ? ["-F"] : []), spec.target];
  const base = { to, send: [] as string[], receive: recv(false), estimatedBytes: null, estimateMethod: "none" };
  if (!(await datasetExists(src, spec.source))) return { ...base, mode: "source-missing", from: null, reason: `source ${spec.source} does not exist on ${src.label}` };
  const token = await resumeToken(dst, dstInfo, spec.target);
  if (token) {
    return { ...base, mode: "resume", from: null, send: ["zfs", "send", "-t", token], estimateMethod: "rest of an interrupted receive" };
  }
  const srcSnaps = await listSnapshots(src, spec.source, [REPLICATION_PROPERTY]);
  const existing = srcSnaps.find((s) => s.snap === to);
  if (!(await datasetExists(dst, spec.target))) {
    const e = await estimate(src, srcInfo, spec.source, undefined, existing ? to : undefined);
    return { ...base, mode: "full", from: null, send: ["zfs", "send", `${spec.source}@${to}`], estimatedBytes: e.bytes, estimateMethod: e.method };
  }
  const dstSnaps = await listSnapshots(dst, spec.target);
  const byGuid = new Map(srcSnaps.map((s) => [s.guid, s]));
  const commonIdx = dstSnaps.map((d) => byGuid.has(d.guid)).lastIndexOf(true);
  const diverged = (reason: string): ReplicationPlan => ({
    ...base,
    mode: "diverged",
    from: commonIdx >= 0 ? byGuid.get(dstSnaps[commonIdx].guid)!.name : null,
    send: spec.allowDestroy ? ["zfs", "send", ...(commonIdx >= 0 ? ["-i", byGuid.get(dstSnaps[commonIdx].guid)!.name] : []), `${spec.source}@${to}`] : [],
    receive: recv(spec.allowDestroy === true),
    reason,
  });
  if (commonIdx < 0) {
    return diverged(dstSnaps.length ? `it shares no snapshot with ${spec.source} (its newest is @${dstSnaps[dstSnaps.length - 1].snap})` : "it exists but has no snapshot to start an increment from");
  }
  const common = byGuid.get(dstSnaps[commonIdx].guid)!;
  if (commonIdx < dstSnaps.length - 1) {
    return diverged(`it has snapshots the source lacks after the common @${common.snap}: ${dstSnaps.slice(commonIdx + 1).map((s) => "@" + s.snap).join(", ")}`);
  }
  if (dstInfo.features.writtenProperty) {
    const w = await zfsGet(dst, [spec.target], ["written"]);
    const written = Number(w.get(spec.target)?.written?.value ?? 0);
    if (written > 0) return diverged(`it was written to (${written} bytes) since the common @${common.snap}`);
  }
  if (existing && existing.guid === common.guid) {
    return { ...base, mode: "incremental", from: common.name, to, send: [], estimatedBytes: 0, estimateMethod: "already on the target" };
  }
  const e = await estimate(src, srcInfo, spec.source, common, existing ? to : undefined);
  return {
    ...base,
    mode: "incremental",
    from: common.name,
    send: ["zfs", "send", "-i", common.name, `${spec.source}@${to}`],
    // With allowDestroy, -F also rolls back changes the target cannot report beforehand (no `written` on zfs-fuse).
    receive: recv(spec.allowDestroy === true),
    estimatedBytes: e.bytes,
    estimateMethod: e.method,
  };
}

function divergedError(spec: ZfsReplicationSpec, src: Host, dst: Host, reason: string, common: string | null): Error {
  return new Error(
    `target: ${spec.target} on ${dst.label} has diverged from ${spec.source} on ${src.label}: ${reason}. Nothing was sent or destroyed. ` +
      `Fix: ${common ? `roll the target back by hand (zfs rollback -r ${spec.target}@${common.split("@")[1]}) after saving what you need, ` : "point target at a new dataset, "}` +
      "or set allowDestroy: true to let zfs receive -F discard the target's changes",
  );
}

async function probe(host: Host, spec: ZfsReplicationSpec, secrets: Record<string, string>): Promise<ZfsReplicationState | undefined> {
  if (!(await datasetExists(host, spec.source))) return undefined;
  return withTarget(secrets, async (dst) => {
    const mine = own(spec, await listSnapshots(host, spec.source, [REPLICATION_PROPERTY]));
    const targetExists = await datasetExists(dst, spec.target);
    const dstSnaps = targetExists ? await listSnapshots(dst, spec.target) : [];
    const newest = mine[mine.length - 1];
    const latest = dstSnaps[dstSnaps.length - 1];
    const s: ZfsReplicationState = {
      sourceSnapshots: mine.map((m) => m.snap),
      newestCreation: newest?.creation ?? 0,
      targetExists,
      targetLatest: latest?.snap ?? null,
      inSync: !!newest && !!latest && newest.guid === latest.guid,
    };
    if (spec.dryRun) s.plan = await planReplication(host, dst, spec, `${replicationPrefix(spec)}-${snapshotStamp(new Date())}`);
    return s;
  });
}

type Desired = ZfsReplicationState & { schedule?: ZfsReplicationSpec };

async function prune(src: Host, dst: Host, spec: ZfsReplicationSpec, log: (m: string) => void): Promise<void> {
  const keep = spec.keepSnapshots ?? ZFS_REPLICATION_DEFAULTS.keepSnapshots;
  const mine = own(spec, await listSnapshots(src, spec.source, [REPLICATION_PROPERTY]));
  const dstSnaps = (await datasetExists(dst, spec.target)) ? await listSnapshots(dst, spec.target) : [];
  const newestCommon = [...dstSnaps].reverse().find((d) => mine.some((m) => m.guid === d.guid));
  for (const s of mine.slice(0, Math.max(0, mine.length - keep))) {
    if (s.guid === newestCommon?.guid) continue;
    await runZfs(src, ["zfs", "destroy", s.name]);
    log(`pruned ${s.name} on ${src.label}`);
  }
  // On the target, only snapshots named with this replication's prefix, older than the newest common one.
  const p = replicationPrefix(spec) + "-";
  const ours = dstSnaps.filter((d) => d.snap.startsWith(p));
  for (const d of ours.slice(0, Math.max(0, ours.length - keep))) {
    if (d.guid === newestCommon?.guid || (newestCommon && d.createtxg >= newestCommon.createtxg)) continue;
    await runZfs(dst, ["zfs", "destroy", d.name]);
    log(`pruned ${d.name} on ${dst.label}`);
  }
}

function describeTransfer(r: PipeResult): string {
  return r.bytes !== undefined ? `${r.bytes} bytes in ${r.seconds.toFixed(2)} s (${r.mibPerSec!.toFixed(1)} MiB/s)` : `${r.seconds.toFixed(2)} s (direct local pipe)`;
}

/** zfs-fuse: a FUSE mount serves stale cached pages after a receive; a remount shows the received data. */
async function remount(dst: Host, target: string, log: (m: string) => void): Promise<void> {
  const got = await zfsGet(dst, [target], ["mounted"]);
  if (got.get(target)?.mounted?.value !== "yes") return;
  const u = await dst.run(["zfs", "umount", target], { check: false });
  if (u.code !== 0) {
    log(`warning: could not remount ${target} on ${dst.label} after the receive (${u.stderr.trim()}); its mount may show stale data until remounted`);
    return;
  }
  for (let i = 1; ; i++) {
    const m = await dst.run(["zfs", "mount", target], { check: false });
    if (m.code === 0) return;
    if (i >= 10) {
      log(`warning: could not mount ${target} again on ${dst.label} after the receive (${m.stderr.trim()}); the data is received, mount it by hand (zfs mount ${target})`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function runReplication(src: Host, dst: Host, spec: ZfsReplicationSpec, log: (m: string) => void, targetSpec?: ConnectionSpec): Promise<void> {
  // An SSH target is reached by an OpenSSH process (its crypto in C): as fast as a raw
  // `zfs send | ssh zfs receive` (test/bench/transfer.ts); ssh2 remains the fallback.
  const pipeOpts = targetSpec?.kind === "ssh" ? { openssh: { target: targetSpec } } : {};
  if (src.label === dst.label && spec.source === spec.target) throw new Error(`target: must differ from source (${spec.source}) on the same host`);
  const dstInfo = await detectZfs(dst);
  if (spec.resumable === true && !dstInfo.features.resumableReceive) {
    throw new Error(unmet(dstInfo, dst.label, [{ field: "resumable", value: true, feature: "resumableReceive" }]).map((p) => `${p.field}: ${p.message}`).join("; "));
  }
  const srcInfo = await detectZfs(src);
  if (srcInfo.implementation === "none") throw new Error(unmet(srcInfo, src.label, [])[0].message);
  // An interrupted resumable receive is finished first.
  const token = await resumeToken(dst, dstInfo, spec.target);
  if (token) {
    const r = await pipeCommands(src, ["zfs", "send", "-t", token], dst, ["zfs", "receive", "-s", spec.target], pipeOpts);
    log(`resumed interrupted receive into ${spec.target}: ${describeTransfer(r)}`);
  }
  const taken = new Set((await listSnapshots(src, spec.source)).map((s) => s.snap));
  let to = `${replicationPrefix(spec)}-${snapshotStamp(new Date())}`;
  for (let i = 2; taken.has(to); i++) to = `${replicationPrefix(spec)}-${snapshotStamp(new Date())}-${i}`;
  const plan = await planReplication(src, dst, spec, to);
  if (plan.mode === "source-missing") throw new Error(`source: ${plan.reason}`);
  if (plan.mode === "diverged" && !spec.allowDestroy) throw divergedError(spec, src, dst, plan.reason!, plan.from);
  if (plan.mode === "resume") throw new Error(`target: ${spec.target} still has a partial receive after resuming; abort it by hand (zfs receive -A ${spec.target})`);
  await runZfs(src, ["zfs", "snapshot", "-o", `${REPLICATION_PROPERTY}=${spec.name}`, `${spec.source}@${to}`]);
  const kind = plan.mode === "diverged" ? `forced (${plan.reason}; allowDestroy: true)` : plan.mode;
  try {
    const r = await pipeCommands(src, plan.send, dst, plan.receive, pipeOpts);
    log(`${kind} send ${plan.from ? plan.from + " -> " : ""}${spec.source}@${to} to ${spec.target} on ${dst.label}: ${describeTransfer(r)}`);
  } catch (e) {
    if (e instanceof PipeError && /modified since most recent snapshot|does not match incremental source|destination .* exists|has been modified/i.test(e.targetStderr)) {
      // zfs-fuse cannot tell beforehand (no `written`): the receive refused it, nothing was destroyed.
      await runZfs(src, ["zfs", "destroy", `${spec.source}@${to}`]).catch(() => undefined);
      throw divergedError(spec, src, dst, `zfs receive refused the increment (${e.targetStderr.trim().split("\n").pop()})`, plan.from);
    }
    throw e;
  }
  if (!dstInfo.features.coherentReceive) await remount(dst, spec.target, log);
  if (spec.readonlyTarget !== false) {
    const ro = await zfsGet(dst, [spec.target], ["readonly"]);
    if (ro.get(spec.target)?.readonly?.value !== "on") await runZfs(dst, ["zfs", "set", "readonly=on", spec.target]);
  }
  await prune(src, dst, spec, log);
}

export const kind: HostKind<ZfsReplicationSpec, ZfsReplicationState> = {
  name: "ZfsReplication",
  version: 1,
  // The target connection gets the same checks as every resource's own connection, named as the
  // user wrote it (`targetConnection.hostKeySha256`), never echoing a key.
  validate: (spec, secrets) => [...validateReplicationSpec(spec), ...targetConnectionProblems(secrets)],
  async preflight(host, spec) {
    const info = await detectZfs(host);
    if (info.implementation === "none") return unmet(info, host.label, []);
    // A remote target is checked when the run connects to it (its connection is a secret).
    if (spec.targetLocal && spec.resumable === true) return unmet(info, host.label, [{ field: "resumable", value: true, feature: "resumableReceive" }]);
    return [];
  },
  render: (spec) => ({ sourceSnapshots: [], newestCreation: 0, targetExists: true, targetLatest: null, inSync: true, schedule: { ...spec } }) as Desired,
  probe,
  absentAs: "(source absent on host)",
  compare(desired, observed) {
    const spec = (desired as Desired).schedule!;
    if (spec.dryRun) return ["plan"];
    const out: string[] = [];
    if (!observed.inSync) out.push("inSync");
    const interval = (spec.intervalMinutes ?? ZFS_REPLICATION_DEFAULTS.intervalMinutes) * 60;
    if (Math.floor(Date.now() / 1000) - observed.newestCreation >= interval) out.push("replicationDue");
    return out;
  },
  project: (spec) => spec,
  outputs: (spec, observed) => ({
    lastSnapshot: observed?.sourceSnapshots.length ? `${spec.source}@${observed.sourceSnapshots[observed.sourceSnapshots.length - 1]}` : null,
    inSync: observed?.inSync ?? false,
    plan: (observed?.plan as unknown as Json) ?? null,
  }),
  id: (spec) => `ZfsReplication:${spec.name}:${spec.source}->${spec.target}`,
  async apply(host, { spec, secrets, live, log }) {
    if (spec.dryRun) {
      const plan = live?.plan;
      if (!plan) throw new Error(`source: ${spec.source} does not exist on ${host.label}`);
      log(
        `dry run: ${plan.mode}${plan.from ? ` from ${plan.from}` : ""} to ${spec.source}@${plan.to} -> ${spec.target}; ` +
          `estimated ${plan.estimatedBytes ?? "unknown"} bytes (${plan.estimateMethod})${plan.reason ? `; ${plan.reason}` : ""}; nothing moved`,
      );
      return;
    }
    await withTarget(secrets, (dst) => runReplication(host, dst, spec, log, targetConnectionOf(secrets)));
  },
  async remove(host, spec, _observed, log) {
    const mine = (await datasetExists(host, spec.source)) ? own(spec, await listSnapshots(host, spec.source, [REPLICATION_PROPERTY])) : [];
    if (spec.allowDestroy !== true) {
      if (mine.length) log(`left ${mine.length} replication snapshot(s) on ${spec.source} and the target ${spec.target} as they are (allowDestroy: false)`);
      return;
    }
    for (const s of mine) await runZfs(host, ["zfs", "destroy", s.name]);
    log(`destroyed ${mine.length} replication snapshot(s) on ${spec.source}; the target ${spec.target} is left as it is`);
  },
};
