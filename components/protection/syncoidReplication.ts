/**
 * What a ZfsReplication with `scheduler: "syncoid"` puts on the source host (pure):
 * `kvmshare-syncoid-<name>.service` running syncoid, and `.timer` firing on the schedule the
 * interval and the backup window give.
 *
 * syncoid flags, and why:
 * - `--identifier=<name>`: its sync snapshots are `syncoid_<name>_<host>_<time>`; it prunes only
 *   those of its own identifier, so several replications of one dataset stay apart;
 * - `--no-rollback` unless `allowDestroy`: without it syncoid rolls the target back to the common
 *   snapshot and receives with `-F` (discarding what was written there); with it a diverged
 *   target makes the receive fail and nothing is discarded;
 * - `--no-resume` only with `resumable: false`: syncoid otherwise uses `receive -s` and resumes
 *   an interrupted receive from its token where both pools have `extensible_dataset`;
 * - never `--force-delete`.
 * `readonlyTarget` on a local target becomes `ExecStartPost=zfs set readonly=on <target>`.
 */
import * as path from "path";
import { render } from "../../core/render";
import { backupSchedule, BackupSchedule } from "./backupWindow";
import { SANOID_PATHS, systemdExec } from "./sanoidUnits";
import { ContinuousFiles, continuousSchedule, intervalSeconds, renderContinuous } from "./continuousReplication";
import { ZFS_REPLICATION_DEFAULTS, ZfsReplicationSpec } from "./zfsReplicationArgs";

export interface SyncoidPlan {
  service: string;
  /** The unit enabled and started: the timer, or with `interval` the loop service itself. */
  timer: string;
  /** With `interval`: the loop's script, state file and textfile. */
  continuous: ContinuousFiles | null;
  execStart: string[];
  execStartPost: string[] | null;
  schedule: BackupSchedule;
  files: Record<string, string>;
  units: Record<string, string>;
}

export function syncoidArgv(spec: ZfsReplicationSpec): string[] {
  const argv = [SANOID_PATHS.syncoid, `--identifier=${spec.name}`];
  if (spec.allowDestroy !== true) argv.push("--no-rollback");
  if (spec.resumable === false) argv.push("--no-resume");
  let target = spec.target;
  if (spec.sshTarget) {
    const t = spec.sshTarget;
    argv.push(`--sshkey=${t.keyFile}`, `--sshport=${t.port ?? 22}`, "--sshoption=BatchMode=yes", "--sshoption=StrictHostKeyChecking=yes");
    target = `${t.user ?? "root"}@${t.host}:${spec.target}`;
  }
  argv.push(spec.source, target);
  return argv;
}

/** With `interval`: the loop service and its script instead of a calendar timer. */
function planContinuous(spec: ZfsReplicationSpec, execStart: string[], execStartPost: string[] | null): SyncoidPlan {
  const interval = intervalSeconds(spec.interval)!;
  const d = ZFS_REPLICATION_DEFAULTS;
  const f = renderContinuous({
    name: spec.name,
    source: spec.source,
    target: execStart[execStart.length - 1],
    localTarget: spec.sshTarget ? null : spec.target,
    interval,
    syncoid: execStart,
    post: execStartPost,
    stateDir: spec.stateDir ?? d.stateDir,
    textfileDir: spec.textfileDir ?? d.textfileDir,
  });
  return {
    service: f.service,
    timer: f.service,
    continuous: f,
    execStart,
    execStartPost,
    schedule: continuousSchedule(interval),
    files: { [path.posix.join(SANOID_PATHS.unitDir, f.service)]: f.serviceText, [f.scriptPath]: f.script },
    units: { [f.service]: f.serviceText },
  };
}

export function planSyncoidReplication(spec: ZfsReplicationSpec): SyncoidPlan {
  const execStart = syncoidArgv(spec);
  const execStartPost = (spec.readonlyTarget ?? ZFS_REPLICATION_DEFAULTS.readonlyTarget) && !spec.sshTarget ? ["zfs", "set", "readonly=on", spec.target] : null;
  if (spec.interval !== undefined) return planContinuous(spec, execStart, execStartPost);
  const service = `kvmshare-syncoid-${spec.name}.service`;
  const timer = `kvmshare-syncoid-${spec.name}.timer`;
  const schedule = backupSchedule(spec.intervalMinutes ?? ZFS_REPLICATION_DEFAULTS.intervalMinutes, spec.backupWindow);
  let serviceText = render("kvmshare-syncoid.service.hbs", {
    name: spec.name,
    source: spec.source,
    target: spec.sshTarget ? `${spec.sshTarget.host}:${spec.target}` : spec.target,
    rollback: spec.allowDestroy === true ? "allowDestroy: the target may be rolled back" : "--no-rollback: the target is never rolled back",
    timer,
    execStart: systemdExec(execStart),
  });
  if (execStartPost) serviceText += `ExecStartPost=${systemdExec(execStartPost)}\n`;
  const w = spec.backupWindow;
  const timerText = render("kvmshare-schedule.timer.hbs", {
    owner: `ZfsReplication ${spec.name}`,
    why: w
      ? `Backup window T_online ${w.onlineHours} h x W ${w.workloadWeight} / (1 - W) = ${schedule.windowHours} h from ${w.startHour ?? 22}:00 UTC, every ${spec.intervalMinutes} min; RPO ${schedule.rpoMinutes} min.`
      : `Every ${spec.intervalMinutes} min; RPO ${schedule.rpoMinutes} min.`,
    description: `kvmshare syncoid replication ${spec.name} timer`,
    onCalendar: schedule.onCalendar,
    service,
  });
  const unitDir = SANOID_PATHS.unitDir;
  return {
    service,
    timer,
    continuous: null,
    execStart,
    execStartPost,
    schedule,
    files: { [path.posix.join(unitDir, service)]: serviceText, [path.posix.join(unitDir, timer)]: timerText },
    units: { [service]: serviceText, [timer]: timerText },
  };
}
