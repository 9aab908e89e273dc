/**
 * Kind: replication run on the source host by syncoid from a kvmshare-owned systemd timer
 * (`ZfsReplication` with `scheduler: "syncoid"`). Apply checks the schedule with
 * `systemd-analyze calendar` (preflight) and the units with `systemd-analyze verify`, writes them
 * atomically and enables the timer. Observed: the files' hashes, whether the timer is enabled and,
 * for a target on the same host, the newest syncoid snapshot there and its age; a last sync older
 * than twice the schedule's longest gap is drift (`lastSyncAgeSec`), as is a timer disabled by hand.
 * Removal disables the timer and removes the units; no snapshot or dataset is touched.
 */
import { Host } from "../../core/connection";
import { defaultCompare, HostKind } from "../../core/hostKind";
import { desiredScheduled, hostNow, installScheduled, probeFiles, removeScheduled, scheduledJobProblems, SANOID_PATHS, underRoot, unitEnabled } from "./sanoidUnits";
import { ContinuousState, lagProblems, MIN_INTERVAL_SECONDS, parseContinuousState } from "./continuousReplication";
import { planSyncoidReplication, SyncoidPlan } from "./syncoidReplication";
import { datasetExists, listSnapshots } from "../storage";
import { validateReplicationSpec, ZFS_REPLICATION_DEFAULTS, ZfsReplicationSpec } from "./zfsReplicationArgs";

export type SyncoidReplicationState = {
  files: Record<string, string | null>;
  /** `systemctl is-enabled` of the timer ("n/a" with activation "none"). */
  timer: string;
  /** Newest `syncoid_<name>_*` snapshot on a local target (null: none yet, or a remote target). */
  targetLatest: string | null;
  /** Its age in seconds at the probe. */
  lastSyncAgeSec: number | null;
  /**
   * With `interval`: whether the loop keeps its RPO, from its state file at the probe
   * ("keeps RPO <n> s", else every reason it is behind); drift when it is behind.
   */
  lag?: string;
  /** With `interval`: the loop's state file, parsed (null: no run yet). */
  loop?: ContinuousState | null;
};

type Desired = SyncoidReplicationState & { staleAfterSec: number | null };

const d = ZFS_REPLICATION_DEFAULTS;
const root = (spec: ZfsReplicationSpec) => spec.root ?? d.root;
const activation = (spec: ZfsReplicationSpec) => spec.activation ?? d.activation;

const keeps = (rpo: number) => `keeps RPO ${rpo} s`;

/** The loop's state file on the host, and whether it keeps its promise now (host clock). */
async function probeLoop(host: Host, spec: ZfsReplicationSpec, plan: SyncoidPlan): Promise<Pick<SyncoidReplicationState, "lag" | "loop" | "targetLatest" | "lastSyncAgeSec">> {
  const c = plan.continuous!;
  // The loop runs on the live system (with an alternate root it runs only once that image boots).
  const text = await host.readFile(c.statePath);
  const rpo = plan.schedule.rpoSeconds!;
  if (text === undefined) return { lag: keeps(rpo), loop: null, targetLatest: null, lastSyncAgeSec: null };
  const loop = parseContinuousState(text);
  const now = await hostNow(host);
  const problems = lagProblems(loop, plan.schedule.intervalSeconds!, now);
  return { lag: problems.length ? problems.join("; ") : keeps(rpo), loop, targetLatest: null, lastSyncAgeSec: loop.lastSuccess > 0 ? Math.max(0, now - loop.lastSuccess) : null };
}

async function probeWith(host: Host, spec: ZfsReplicationSpec, plan: SyncoidPlan): Promise<SyncoidReplicationState | undefined> {
  const files = await probeFiles(host, root(spec), Object.keys(plan.files));
  if (Object.values(files).every((v) => v === null)) return undefined;
  if (plan.continuous) return { files, timer: activation(spec) === "none" ? "n/a" : await unitEnabled(host, root(spec), plan.timer), ...(await probeLoop(host, spec, plan)) };
  let targetLatest: string | null = null;
  let lastSyncAgeSec: number | null = null;
  if (!spec.sshTarget && (await datasetExists(host, spec.target))) {
    const mine = (await listSnapshots(host, spec.target)).filter((s) => s.snap.startsWith(`syncoid_${spec.name}_`));
    const newest = mine[mine.length - 1];
    if (newest) {
      targetLatest = newest.snap;
      lastSyncAgeSec = Math.max(0, (await hostNow(host)) - newest.creation);
    }
  }
  return { files, timer: activation(spec) === "none" ? "n/a" : await unitEnabled(host, root(spec), plan.timer), targetLatest, lastSyncAgeSec };
}

export const kind: HostKind<ZfsReplicationSpec, SyncoidReplicationState> = {
  name: "SyncoidReplication",
  version: 1,
  validate: (spec) => validateReplicationSpec(spec),
  async preflight(host, spec) {
    const plan = planSyncoidReplication(spec);
    const calendarField = spec.backupWindow ? "backupWindow" : "intervalMinutes";
    const { problems } = await scheduledJobProblems(host, { program: SANOID_PATHS.syncoid, calendarField, calendar: plan.continuous ? null : plan.schedule.onCalendar, datasetField: "source", dataset: spec.source });
    return problems;
  },
  render(spec) {
    const plan = planSyncoidReplication(spec);
    const desired: Desired = {
      ...desiredScheduled(plan.files, activation(spec)),
      targetLatest: null,
      lastSyncAgeSec: null,
      // The loop reports its own lag (for a remote target too); the calendar timer's is read from a local target.
      staleAfterSec: spec.sshTarget || plan.continuous ? null : 2 * plan.schedule.rpoMinutes * 60,
    };
    if (plan.continuous) desired.lag = keeps(plan.schedule.rpoSeconds!);
    return desired;
  },
  probe: (host, spec) => probeWith(host, spec, planSyncoidReplication(spec)),
  compare(desired, observed) {
    const out = defaultCompare(desired, observed, ["files", "timer"]);
    if (desired.lag !== undefined && observed.lag !== desired.lag) out.push("lag");
    const stale = (desired as Desired).staleAfterSec;
    if (stale !== null && observed.lastSyncAgeSec !== null && observed.lastSyncAgeSec > stale) out.push("lastSyncAgeSec");
    return out;
  },
  project: (spec) => spec,
  outputs: (spec, observed) => {
    const plan = planSyncoidReplication(spec);
    return {
      lastSnapshot: observed?.targetLatest ? `${spec.target}@${observed.targetLatest}` : null,
      inSync: observed?.lastSyncAgeSec !== null && observed?.lastSyncAgeSec !== undefined && observed.lastSyncAgeSec <= (plan.schedule.rpoSeconds ?? plan.schedule.rpoMinutes * 60),
      plan: null,
      schedule: { ...plan.schedule },
      timerUnit: plan.timer,
    };
  },
  id: (spec) => `SyncoidReplication:${spec.source}:${spec.name}`,
  async apply(host, { spec, log }) {
    const plan = planSyncoidReplication(spec);
    // A switch between the calendar timer and the loop leaves nothing of the other mode behind.
    const other = planSyncoidReplication(plan.continuous ? { ...spec, interval: undefined, intervalMinutes: 60 } : { ...spec, interval: MIN_INTERVAL_SECONDS });
    // (the old timer stopped, or the loop service stopped before its unit becomes the timer's oneshot).
    const stale: string[] = [];
    for (const f of Object.keys(other.files)) if (!(f in plan.files) && (await host.readFile(underRoot(root(spec), f))) !== undefined) stale.push(f);
    if (stale.length) await removeScheduled(host, { root: root(spec), activation: activation(spec), files: stale, timer: other.timer, log });
    await installScheduled(host, { root: root(spec), activation: activation(spec), files: plan.files, units: plan.units, timer: plan.timer, log });
    log(
      plan.continuous
        ? `${plan.service}: a run every ${plan.schedule.intervalSeconds} s, RPO ${plan.schedule.rpoSeconds} s while runs finish within the interval; lag in ${plan.continuous.textfilePath}`
        : `${plan.timer}: OnCalendar=${plan.schedule.onCalendar} (${plan.schedule.runsPerDay} runs a day, RPO ${plan.schedule.rpoMinutes} min)`,
    );
  },
  async remove(host, spec, _observed, log) {
    const plan = planSyncoidReplication(spec);
    await removeScheduled(host, { root: root(spec), activation: activation(spec), files: Object.keys(plan.files), timer: plan.timer, log });
    // The loop's metrics would go on saying "ok" to node_exporter; its state and lock go with it (no data).
    const c = plan.continuous;
    if (c) for (const f of [c.textfilePath, c.statePath, c.lockPath]) if (await host.removeFile(f)) log(`removed ${f}`);
  },
};
