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
import { desiredScheduled, hostNow, installScheduled, probeFiles, removeScheduled, scheduledJobProblems, SANOID_PATHS, unitEnabled } from "./sanoidUnits";
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
};

type Desired = SyncoidReplicationState & { staleAfterSec: number | null };

const d = ZFS_REPLICATION_DEFAULTS;
const root = (spec: ZfsReplicationSpec) => spec.root ?? d.root;
const activation = (spec: ZfsReplicationSpec) => spec.activation ?? d.activation;

async function probeWith(host: Host, spec: ZfsReplicationSpec, plan: SyncoidPlan): Promise<SyncoidReplicationState | undefined> {
  const files = await probeFiles(host, root(spec), Object.keys(plan.files));
  if (Object.values(files).every((v) => v === null)) return undefined;
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
    const { problems } = await scheduledJobProblems(host, { program: SANOID_PATHS.syncoid, calendarField, calendar: plan.schedule.onCalendar, datasetField: "source", dataset: spec.source });
    return problems;
  },
  render(spec) {
    const plan = planSyncoidReplication(spec);
    const desired: Desired = {
      ...desiredScheduled(plan.files, activation(spec)),
      targetLatest: null,
      lastSyncAgeSec: null,
      staleAfterSec: spec.sshTarget ? null : 2 * plan.schedule.rpoMinutes * 60,
    };
    return desired;
  },
  probe: (host, spec) => probeWith(host, spec, planSyncoidReplication(spec)),
  compare(desired, observed) {
    const out = defaultCompare(desired, observed, ["files", "timer"]);
    const stale = (desired as Desired).staleAfterSec;
    if (stale !== null && observed.lastSyncAgeSec !== null && observed.lastSyncAgeSec > stale) out.push("lastSyncAgeSec");
    return out;
  },
  project: (spec) => spec,
  outputs: (spec, observed) => {
    const plan = planSyncoidReplication(spec);
    return {
      lastSnapshot: observed?.targetLatest ? `${spec.target}@${observed.targetLatest}` : null,
      inSync: observed?.lastSyncAgeSec !== null && observed?.lastSyncAgeSec !== undefined && observed.lastSyncAgeSec <= plan.schedule.rpoMinutes * 60,
      plan: null,
      schedule: { ...plan.schedule },
      timerUnit: plan.timer,
    };
  },
  id: (spec) => `SyncoidReplication:${spec.source}:${spec.name}`,
  async apply(host, { spec, log }) {
    const plan = planSyncoidReplication(spec);
    await installScheduled(host, { root: root(spec), activation: activation(spec), files: plan.files, units: plan.units, timer: plan.timer, log });
    log(`${plan.timer}: OnCalendar=${plan.schedule.onCalendar} (${plan.schedule.runsPerDay} runs a day, RPO ${plan.schedule.rpoMinutes} min)`);
  },
  async remove(host, spec, _observed, log) {
    const plan = planSyncoidReplication(spec);
    await removeScheduled(host, { root: root(spec), activation: activation(spec), files: Object.keys(plan.files), timer: plan.timer, log });
  },
};
