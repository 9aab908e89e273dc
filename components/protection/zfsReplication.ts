import * as pulumi from "@pulumi/pulumi";
import { hostResourceClass, out, Outputs } from "../../core/component";
import { HostComponent } from "../host";
import { resolveZfsReplication, validateZfsReplication, ZfsReplicationArgs, ZfsReplicationSpec } from "./zfsReplicationArgs";
import type { ReplicationPlan, ZfsReplicationState } from "./zfsReplicationKind";
import type { SyncoidReplicationState } from "./syncoidReplicationKind";
import { onDataset, targetSecrets } from "./onDataset";
import { backupSchedule, BackupSchedule, backupWindowWarning } from "./backupWindow";
import { continuousSchedule, intervalSeconds } from "./continuousReplication";

/** What both schedulers' resources output, and the component with them. */
const REPLICATION_OUTPUTS = {
  /** `dataset@snapshot` last sent. */
  lastSnapshot: out<string | null>(),
  /** The target holds the source's newest replication snapshot. */
  inSync: out<boolean>(),
  /** With `dryRun`: what would be sent and its estimated size. */
  plan: out<ReplicationPlan | null>(),
};

export const ZfsReplicationResource = hostResourceClass<ZfsReplicationSpec, ZfsReplicationState>()("ZfsReplication", REPLICATION_OUTPUTS);
export type ZfsReplicationResource = InstanceType<typeof ZfsReplicationResource>;

export const SyncoidReplicationResource = hostResourceClass<ZfsReplicationSpec, SyncoidReplicationState>()("SyncoidReplication", {
  ...REPLICATION_OUTPUTS,
  schedule: out<BackupSchedule>(),
  timerUnit: out<string>(),
});
export type SyncoidReplicationResource = InstanceType<typeof SyncoidReplicationResource>;

/** The replication's outputs shared with its resource (`REPLICATION_OUTPUTS`); `schedule` is the component's own. */
export interface ZfsReplication extends Outputs<typeof REPLICATION_OUTPUTS> {}

/**
 * Incremental backup of a dataset to another pool or host: full send the first time, then
 * `zfs send -i` from the newest common snapshot; a diverged target is refused, never
 * overwritten, unless `allowDestroy`. With `scheduler: "syncoid"` the source host replicates
 * on its own from a systemd timer (within the `backupWindow` when given).
 */
export class ZfsReplication extends HostComponent<ZfsReplication> {
  /** syncoid: the timer's schedule (window hours, OnCalendar, runs a day, RPO minutes; with `interval` also intervalSeconds and the promised rpoSeconds); null with scheduler "up". */
  declare public readonly schedule: pulumi.Output<BackupSchedule | null>;
  public readonly resource: ZfsReplicationResource | SyncoidReplicationResource;

  constructor(name: string, args: ZfsReplicationArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsReplication(name, args);
    super("kvmshare:storage:ZfsReplication", name, opts);
    const spec = resolveZfsReplication(name, args);
    const { connection, childOpts } = onDataset(args.source, args.connection);
    let schedule: pulumi.Output<BackupSchedule | null> = pulumi.output(null);
    if (spec.scheduler === "syncoid") {
      const sched = spec.interval !== undefined ? continuousSchedule(intervalSeconds(spec.interval)!) : backupSchedule(spec.intervalMinutes!, spec.backupWindow);
      const w = spec.backupWindow;
      pulumi.log.info(
        `ZfsReplication ${name}: ` +
          (sched.rpoSeconds !== undefined
            ? `near-continuous, a run every ${sched.intervalSeconds} s; RPO ${sched.rpoSeconds} s while runs finish within the interval`
            : (w ? `backup window ${sched.windowHours} h (T_online ${w.onlineHours} h x W ${w.workloadWeight} / (1 - W)) from ${w.startHour ?? 22}:00 UTC; ` : "") +
              `timer OnCalendar=${sched.onCalendar}, ${sched.runsPerDay} runs a day, RPO ${sched.rpoMinutes} min (plus the run's own time)`),
        this,
      );
      const warning = w && backupWindowWarning(w);
      if (warning) pulumi.log.warn(`ZfsReplication ${name}: ${warning}`, this);
      this.resource = this.hostResource(SyncoidReplicationResource, "syncoid", { connection, spec }, childOpts).resource;
      schedule = pulumi.output(sched);
    } else {
      this.resource = this.hostResource(ZfsReplicationResource, "replication", { connection, spec, secrets: targetSecrets(args.targetConnection) }, childOpts).resource;
    }
    const { lastSnapshot, inSync, plan } = this.resource;
    this.publish({ lastSnapshot, inSync, plan, schedule });
  }
}
