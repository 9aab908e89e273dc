import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import { resolveZfsReplication, validateZfsReplication, ZfsReplicationArgs, ZfsReplicationSpec } from "./zfsReplicationArgs";
import type { ReplicationPlan, ZfsReplicationState } from "./zfsReplicationKind";
import type { SyncoidReplicationState } from "./syncoidReplicationKind";
import { backupSchedule, BackupSchedule, backupWindowWarning } from "./backupWindow";

export class ZfsReplicationResource extends HostResource<ZfsReplicationSpec, ZfsReplicationState> {
  declare public readonly lastSnapshot: pulumi.Output<string | null>;
  declare public readonly inSync: pulumi.Output<boolean>;
  declare public readonly plan: pulumi.Output<ReplicationPlan | null>;
  constructor(
    name: string,
    args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsReplicationSpec; secrets?: pulumi.Input<Record<string, pulumi.Input<string>>> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super("ZfsReplication", name, args, opts, ["lastSnapshot", "inSync", "plan"]);
  }
}

export class SyncoidReplicationResource extends HostResource<ZfsReplicationSpec, SyncoidReplicationState> {
  declare public readonly lastSnapshot: pulumi.Output<string | null>;
  declare public readonly inSync: pulumi.Output<boolean>;
  declare public readonly plan: pulumi.Output<ReplicationPlan | null>;
  declare public readonly schedule: pulumi.Output<BackupSchedule>;
  declare public readonly timerUnit: pulumi.Output<string>;
  constructor(name: string, args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsReplicationSpec }, opts?: pulumi.CustomResourceOptions) {
    super("SyncoidReplication", name, args, opts, ["lastSnapshot", "inSync", "plan", "schedule", "timerUnit"]);
  }
}

/**
 * Incremental backup of a dataset to another pool or host: full send the first time, then
 * `zfs send -i` from the newest common snapshot; a diverged target is refused, never
 * overwritten, unless `allowDestroy`. With `scheduler: "syncoid"` the source host replicates
 * on its own from a systemd timer (within the `backupWindow` when given).
 */
export class ZfsReplication extends pulumi.ComponentResource {
  /** `dataset@snapshot` last sent. */
  public readonly lastSnapshot: pulumi.Output<string | null>;
  /** The target holds the source's newest replication snapshot. */
  public readonly inSync: pulumi.Output<boolean>;
  /** With `dryRun`: what would be sent and its estimated size. */
  public readonly plan: pulumi.Output<ReplicationPlan | null>;
  /** syncoid: the timer's schedule (window hours, OnCalendar, runs a day, RPO minutes); null with scheduler "up". */
  public readonly schedule: pulumi.Output<BackupSchedule | null>;
  public readonly resource: ZfsReplicationResource | SyncoidReplicationResource;

  constructor(name: string, args: ZfsReplicationArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsReplication(name, args);
    super("kvmshare:storage:ZfsReplication", name, {}, opts);
    const spec = resolveZfsReplication(name, args);
    const src = typeof args.source === "string" ? undefined : args.source;
    const connection = args.connection ?? src?.connection;
    const childOpts = { parent: this, dependsOn: src ? [src.dataset] : [] };
    if (spec.scheduler === "syncoid") {
      const sched = backupSchedule(spec.intervalMinutes!, spec.backupWindow);
      const w = spec.backupWindow;
      pulumi.log.info(
        `ZfsReplication ${name}: ` +
          (w ? `backup window ${sched.windowHours} h (T_online ${w.onlineHours} h x W ${w.workloadWeight} / (1 - W)) from ${w.startHour ?? 22}:00 UTC; ` : "") +
          `timer OnCalendar=${sched.onCalendar}, ${sched.runsPerDay} runs a day, RPO ${sched.rpoMinutes} min (plus the run's own time)`,
        this,
      );
      const warning = w && backupWindowWarning(w);
      if (warning) pulumi.log.warn(`ZfsReplication ${name}: ${warning}`, this);
      const r = new SyncoidReplicationResource(`${name}-syncoid`, { connection, spec }, childOpts);
      this.resource = r;
      this.schedule = pulumi.output(sched);
    } else {
      const secrets = args.targetConnection !== undefined ? { targetConnection: pulumi.output(args.targetConnection).apply((c) => JSON.stringify(c)) } : undefined;
      this.resource = new ZfsReplicationResource(`${name}-replication`, { connection, spec, secrets }, childOpts);
      this.schedule = pulumi.output(null);
    }
    this.lastSnapshot = this.resource.lastSnapshot;
    this.inSync = this.resource.inSync;
    this.plan = this.resource.plan;
    this.registerOutputs({ lastSnapshot: this.lastSnapshot, inSync: this.inSync, plan: this.plan, schedule: this.schedule });
  }
}
