/**
 * Kind: a snapshot policy on one dataset. Each `up` on which a snapshot is due takes one
 * (`<prefix>-<UTC time>`, marked with the user property `kvmshare:policy=<policy>` set *locally*
 * on the snapshot), then prunes the policy's own snapshots by count and age. A snapshot is the
 * policy's own only when both its name starts with the prefix and the marker's source is
 * `local`: snapshots taken by hand, by other tools, or that merely inherit the property from the
 * dataset are never deleted.
 *
 * When is a snapshot due? `intervalMinutes: 0` (the default) means on every `up`; otherwise when
 * the newest own snapshot is older than the interval. The check runs in `diff` against the
 * observed newest snapshot time, so a stack with an interval stays quiet under
 * `preview --expect-no-changes` until the next snapshot is due.
 */
import { Host } from "../../core/connection";
import { HostKind } from "../../core/hostKind";
import { listSnapshots, runZfs, SnapshotInfo, zfsGet } from "../storage";
import { snapshotStamp } from "../storage";
import { policyPrefix, validateSnapshotPolicySpec, ZFS_SNAPSHOT_POLICY_DEFAULTS, ZfsSnapshotPolicySpec } from "./zfsSnapshotPolicyArgs";

export const POLICY_PROPERTY = "kvmshare:policy";

export type ZfsSnapshotPolicyState = {
  /** The policy's own snapshots, oldest first (names after '@'). */
  snapshots: string[];
  /** Creation time (epoch s) of the newest own snapshot; 0 when none. */
  newestCreation: number;
  /** Creation times, same order as `snapshots`. */
  creations: number[];
};

/** The policy's own snapshots among a dataset's (name prefix AND a locally set marker). */
export function ownSnapshots(spec: ZfsSnapshotPolicySpec, snaps: SnapshotInfo[]): SnapshotInfo[] {
  const p = policyPrefix(spec) + "-";
  return snaps.filter((s) => s.snap.startsWith(p) && s.props[POLICY_PROPERTY]?.value === spec.policy && s.props[POLICY_PROPERTY]?.source === "local");
}

/** Which own snapshots (oldest first) retention removes at time `nowSec`. */
export function toPrune(spec: ZfsSnapshotPolicySpec, own: { snap: string; creation: number }[], nowSec: number): string[] {
  const keep = spec.keep ?? ZFS_SNAPSHOT_POLICY_DEFAULTS.keep;
  const out: string[] = [];
  own.forEach((s, i) => {
    const isNewest = i === own.length - 1;
    const beyondCount = i < own.length - keep;
    const tooOld = spec.maxAgeDays !== undefined && nowSec - s.creation > spec.maxAgeDays * 86400;
    if (!isNewest && (beyondCount || tooOld)) out.push(s.snap);
  });
  return out;
}

/** Why an up would change something now (empty: nothing due). */
export function dueReasons(spec: ZfsSnapshotPolicySpec, observed: ZfsSnapshotPolicyState, nowSec: number): string[] {
  const out: string[] = [];
  const interval = (spec.intervalMinutes ?? ZFS_SNAPSHOT_POLICY_DEFAULTS.intervalMinutes) * 60;
  if (!observed.snapshots.length || nowSec - observed.newestCreation >= interval) out.push("snapshotDue");
  const own = observed.snapshots.map((snap, i) => ({ snap, creation: observed.creations[i] ?? 0 }));
  if (toPrune(spec, own, nowSec).length) out.push("retention");
  return out;
}

async function probe(host: Host, spec: ZfsSnapshotPolicySpec): Promise<ZfsSnapshotPolicyState | undefined> {
  if (!(await zfsGet(host, [spec.dataset], ["type"])).has(spec.dataset)) return undefined;
  const own = ownSnapshots(spec, await listSnapshots(host, spec.dataset, [POLICY_PROPERTY]));
  return {
    snapshots: own.map((s) => s.snap),
    creations: own.map((s) => s.creation),
    newestCreation: own.length ? own[own.length - 1].creation : 0,
  };
}

// `compare` runs inside the provider's diff with the spec at hand only through this closure;
// the provider passes (desired, observed), so the spec's schedule travels in `desired`.
type Desired = ZfsSnapshotPolicyState & { schedule?: ZfsSnapshotPolicySpec };

export const kind: HostKind<ZfsSnapshotPolicySpec, ZfsSnapshotPolicyState> = {
  name: "ZfsSnapshotPolicy",
  version: 1,
  validate: (spec) => validateSnapshotPolicySpec(spec),
  render: (spec) => ({ snapshots: [], creations: [], newestCreation: 0, schedule: { ...spec } }) as Desired,
  probe,
  absentAs: "(dataset absent on host)",
  compare(desired, observed) {
    const spec = (desired as Desired).schedule!;
    return dueReasons(spec, observed, Math.floor(Date.now() / 1000));
  },
  project: (spec) => spec,
  outputs: (spec, observed) => ({
    policy: spec.policy,
    latestSnapshot: observed?.snapshots.length ? `${spec.dataset}@${observed.snapshots[observed.snapshots.length - 1]}` : null,
    snapshotCount: observed?.snapshots.length ?? 0,
  }),
  id: (spec) => `ZfsSnapshotPolicy:${spec.dataset}:${spec.policy}`,
  async apply(host, { spec, live, log }) {
    if (!live) {
      if (!(await zfsGet(host, [spec.dataset], ["type"])).has(spec.dataset)) {
        throw new Error(`dataset: '${spec.dataset}' does not exist on ${host.label}; declare the ZfsDataset first and pass it as 'dataset'`);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    const state = live ?? (await probe(host, spec))!;
    if (dueReasons(spec, state, now).includes("snapshotDue")) {
      const existing = new Set((await listSnapshots(host, spec.dataset)).map((s) => s.snap));
      let name = `${policyPrefix(spec)}-${snapshotStamp(new Date())}`;
      for (let i = 2; existing.has(name); i++) name = `${policyPrefix(spec)}-${snapshotStamp(new Date())}-${i}`;
      await runZfs(host, ["zfs", "snapshot", "-o", `${POLICY_PROPERTY}=${spec.policy}`, `${spec.dataset}@${name}`]);
      log(`took snapshot ${spec.dataset}@${name}`);
    }
    const own = ownSnapshots(spec, await listSnapshots(host, spec.dataset, [POLICY_PROPERTY]));
    for (const snap of toPrune(spec, own, now)) {
      await runZfs(host, ["zfs", "destroy", `${spec.dataset}@${snap}`]);
      log(`pruned ${spec.dataset}@${snap} (retention: keep ${spec.keep ?? ZFS_SNAPSHOT_POLICY_DEFAULTS.keep}${spec.maxAgeDays !== undefined ? `, max ${spec.maxAgeDays} days` : ""})`);
    }
  },
  async remove(host, spec, _observed, log) {
    const state = await probe(host, spec);
    if (!state) return;
    if (spec.allowDestroy !== true) {
      if (state.snapshots.length) log(`left ${state.snapshots.length} snapshot(s) of policy ${spec.policy} on ${spec.dataset} (allowDestroy: false)`);
      return;
    }
    for (const snap of state.snapshots) await runZfs(host, ["zfs", "destroy", `${spec.dataset}@${snap}`]);
    log(`destroyed ${state.snapshots.length} snapshot(s) of policy ${spec.policy} on ${spec.dataset} (allowDestroy: true)`);
  },
};
