/**
 * ZfsReplication's arguments (declared once, documented), their defaults, how they resolve into
 * the spec the host kind receives, and their pure validation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { Activation, ACTIVATIONS } from "../../core/systemdUnits";
import { Checker } from "../../core/validate";
import type { ZfsDataset } from "../storage";
import { BackupWindow, checkBound, validateBackupWindow, validateTimerInterval } from "./backupWindow";
import { validateInterval } from "./continuousReplication";
import { datasetNameOf, validateDatasetName, validateSnapshotPrefix } from "../storage";
import { replicationSelfReference, sameHost, sourceConnection } from "./relations";

export interface ZfsReplicationArgs {
  /** The source host. @default the source dataset component's connection, else this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Source dataset: a `ZfsDataset` component or its full name. @fieldKind name */
  source: ZfsDataset | string;
  /** Target dataset name, e.g. `backup/vmshare` (its parent must exist). @fieldKind name */
  target: string;
  /** The target host (another pool on this machine when omitted). Stored as a secret: it may hold a key. @default this machine */
  targetConnection?: pulumi.Input<ConnectionSpec>;
  /** Name stored in the source snapshots' `kvmshare:replication` property. @default the resource name @fieldKind name */
  replicationName?: string;
  /** Snapshot name prefix. @default `kvmshare-repl-<replicationName>` @fieldKind name */
  prefix?: string;
  /** Minutes between runs; 0 replicates on every `up`. @default 0: a run on every up */
  intervalMinutes?: number;
  /**
   * Near-continuous replication (needs scheduler "syncoid"): seconds between the starts of runs,
   * as a number or a systemd time span ("10s", "1min 30s"), from 5 s to a day. A loop service on
   * the source host (`kvmshare-syncoid-<replicationName>.service`) replaces the calendar timer;
   * runs never overlap (flock), failed runs' snapshots are pruned, and `schedule.rpoSeconds`
   * states the RPO it promises (2 x interval while runs finish within it). Exclusive with
   * `intervalMinutes` and `backupWindow`.
   * @default unset: the `intervalMinutes` calendar timer
   * @fieldKind free
   */
  interval?: number | string;
  /** With `interval`: node_exporter's textfile collector directory (last success age, lag in bytes, run duration). @default "/var/lib/prometheus/node-exporter" @fieldKind path dir */
  textfileDir?: string;
  /** With `interval`: where the loop keeps its state file (read at `preview --refresh`) and its lock. @default "/var/lib/kvmshare/replication" @fieldKind path dir */
  stateDir?: string;
  /** The replication's own snapshots kept on each side (the newest common one always stays). @default 2 */
  keepSnapshots?: number;
  /** Resumable receive (`zfs receive -s`): "auto" where the target's ZFS supports it; true fails on hosts without it. @default "auto" */
  resumable?: boolean | "auto";
  /** Set readonly=on on the target after receiving so it cannot diverge. @default true */
  readonlyTarget?: boolean;
  /** Report the plan (full/incremental, from, to, estimated bytes) in the `plan` output and move nothing. @default false: replicate */
  dryRun?: boolean;
  /** Allow `zfs receive -F` on a diverged target (discards its changes). @default false: a diverged target is an error */
  allowDestroy?: boolean;
  /**
   * Who replicates: "up" = kvmshare on each `pulumi up`; "syncoid" = syncoid on the source host
   * from a systemd timer kvmshare installs (`kvmshare-syncoid-<replicationName>.timer`), every
   * `intervalMinutes` (then > 0, dividing an hour or whole hours dividing a day; within
   * `backupWindow` when given), so backups go on between deploys. syncoid runs with `--no-rollback` (no `receive -F`,
   * no rollback of the target) unless `allowDestroy`.
   * @default "up"
   */
  scheduler?: "up" | "syncoid";
  /** The brief's backup window: T_backup = onlineHours x W / (1 - W) hours from startHour (UTC); the timer fires only within it. @default unset: all day */
  backupWindow?: BackupWindow;
  /** syncoid with a remote target: how the source host reaches it over SSH (syncoid runs there, not in Pulumi). @default unset: the target is on the source host */
  sshTarget?: SyncoidSshTarget;
  /** syncoid: alternate root every file goes under (images, sandboxes, tests; implies activation "enable" or "none"). @default "/" @fieldKind path dir */
  root?: string;
  /** syncoid: "start" = enable --now the timer; "enable" = enable only (offline, with `root`); "none" = files only. @default "start" */
  activation?: Activation;
}

/** How syncoid on the source host reaches a remote target. */
export interface SyncoidSshTarget {
  /** Target host name or address. @fieldKind address */
  host: string;
  /** SSH user on the target. @default "root" @fieldKind name */
  user?: string;
  /** SSH port. @default 22 */
  port?: number;
  /** Private key file on the source host (0600, root's). @fieldKind path toolRead */
  keyFile: string;
}

/** The Args fields the host kind receives as they are. */
type ReplicationFields = Plain<Omit<ZfsReplicationArgs, "connection" | "source" | "targetConnection" | "replicationName">>;
/** Fields without a table default (`prefix` derives from the replication name). */
type ReplicationUnset = "prefix" | "backupWindow" | "sshTarget" | "interval";

/** The replication as its host kind receives it: the Args' fields, names resolved, no connection (it is a secret). */
export type ZfsReplicationSpec = ReplicationFields & {
  /** Replication name (`replicationName`, else the resource name), stored in each source snapshot's `kvmshare:replication` property. */
  name: string;
  /** Source dataset (on the resource's connection). */
  source: string;
  /** The target is on the same host as the source (no `targetConnection`): preview checks it too. */
  targetLocal?: boolean;
};

export const ZFS_REPLICATION_DEFAULTS: Defaults<ReplicationFields, ReplicationUnset> = {
  intervalMinutes: 0,
  keepSnapshots: 2,
  resumable: "auto",
  readonlyTarget: true,
  dryRun: false,
  allowDestroy: false,
  scheduler: "up",
  root: "/",
  activation: "start",
  textfileDir: "/var/lib/prometheus/node-exporter",
  stateDir: "/var/lib/kvmshare/replication",
};

/** The snapshot name prefix: the declared one, else `kvmshare-repl-<name>`. */
export function replicationPrefix(spec: Pick<ZfsReplicationSpec, "name" | "prefix">): string {
  return spec.prefix ?? `kvmshare-repl-${spec.name}`;
}

export function resolveZfsReplication(name: string, args: ZfsReplicationArgs): ZfsReplicationSpec {
  const { connection, source, targetConnection, replicationName, ...fields } = args;
  const rname = replicationName ?? name;
  const spec: ZfsReplicationSpec = {
    name: rname,
    source: datasetNameOf(source),
    ...resolveDefaults<ReplicationFields, ReplicationUnset>(fields, ZFS_REPLICATION_DEFAULTS),
    prefix: replicationPrefix({ name: rname, prefix: fields.prefix }),
    targetLocal: targetConnection === undefined,
  };
  // An "up" replication's spec stays as it was before syncoid existed (no update of deployed stacks).
  if (spec.scheduler === "up") for (const k of ["scheduler", "root", "activation"] as const) delete spec[k];
  // Nor a calendar-timer syncoid spec (the continuous mode's own fields appear only with `interval`).
  if (spec.interval === undefined) for (const k of ["textfileDir", "stateDir"] as const) delete spec[k];
  return spec;
}


/** Every problem with a replication spec (pure; also the kind's `validate`). */
export function validateReplicationSpec(spec: ZfsReplicationSpec, prefix = ""): Problem[] {
  const c = new Checker("ZfsReplication");
  c.required(`${prefix}name`, spec.name).name(`${prefix}name`, spec.name);
  c.required(`${prefix}source`, spec.source);
  c.required(`${prefix}target`, spec.target);
  c.problems.push(...validateDatasetName(spec.source, `${prefix}source`), ...validateDatasetName(spec.target, `${prefix}target`));
  c.problems.push(...validateSnapshotPrefix(spec.prefix, `${prefix}prefix`));
  // Same host: no targetConnection (the spec says so) and no sshTarget (syncoid's remote end).
  const viaSsh = spec.scheduler === "syncoid" && spec.sshTarget !== undefined;
  const self = spec.targetLocal !== false && !viaSsh ? replicationSelfReference(spec.source, spec.target) : undefined;
  if (self) c.add(`${prefix}target`, spec.target, self);
  checkBound(c, `${prefix}intervalMinutes`, "intervalMinutes", spec.intervalMinutes, 0, "0 = on every up; 60 = hourly");
  checkBound(c, `${prefix}keepSnapshots`, "keepSnapshots", spec.keepSnapshots, 1, "at least 1: the newest common snapshot is the base of the next increment");
  if (spec.resumable !== undefined && ![true, false, "auto"].includes(spec.resumable as never)) c.add(`${prefix}resumable`, spec.resumable, "must be true, false or 'auto'");
  for (const k of ["dryRun", "allowDestroy", "readonlyTarget"] as const) {
    if (spec[k] !== undefined && typeof spec[k] !== "boolean") c.add(`${prefix}${k}`, spec[k], "must be true or false");
  }
  c.oneOf(`${prefix}scheduler`, spec.scheduler, ["up", "syncoid"]);
  c.problems.push(...validateBackupWindow(spec.backupWindow, `${prefix}backupWindow.`));
  c.problems.push(...continuousProblems(spec, prefix));
  if (spec.scheduler === "syncoid") {
    // With `interval` the loop's period is checked by continuousProblems.
    if (spec.interval === undefined && (spec.intervalMinutes === 0 || spec.intervalMinutes === undefined)) {
      c.add(`${prefix}intervalMinutes`, spec.intervalMinutes, "must be > 0 with scheduler 'syncoid' (the timer's period, e.g. 15)");
    } else if (spec.interval === undefined) c.problems.push(...validateTimerInterval(`${prefix}intervalMinutes`, spec.intervalMinutes));
    if (spec.dryRun === true) c.add(`${prefix}dryRun`, spec.dryRun, "has no meaning with scheduler 'syncoid' (the host replicates on its own); use scheduler 'up' for a dry run");
    if (spec.targetLocal === false && !spec.sshTarget) {
      c.add(`${prefix}sshTarget`, spec.sshTarget, "is required with scheduler 'syncoid' and a targetConnection: syncoid runs on the source host and needs { host, keyFile } to reach the target");
    }
    if (spec.sshTarget) {
      const t = spec.sshTarget;
      if (typeof t.host === "string" && t.host.includes("/")) c.add(`${prefix}sshTarget.host`, t.host, "must be the target host's name or IP address, not a network (syncoid connects to one host), e.g. 'backup.example.org'");
      else c.hostOrCidr(`${prefix}sshTarget.host`, t.host);
      c.absPath(`${prefix}sshTarget.keyFile`, t.keyFile, "toolRead").port(`${prefix}sshTarget.port`, t.port);
      if (t.user !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(t.user)) c.add(`${prefix}sshTarget.user`, t.user, "must be a user name (lower-case letters, digits, '_', '-')");
    }
    c.absPath(`${prefix}root`, spec.root, "dir");
    c.oneOf(`${prefix}activation`, spec.activation, ACTIVATIONS);
    if (spec.activation === "start" && spec.root && spec.root !== "/") {
      c.add(`${prefix}activation`, spec.activation, "cannot be 'start' with an alternate root (no systemd runs there): use 'enable' (offline, systemctl --root) or 'none'");
    }
  } else if (spec.backupWindow !== undefined) {
    c.add(`${prefix}backupWindow`, "set", "needs scheduler: 'syncoid' (the window is the host timer's schedule; 'up' replicates when you deploy)");
  }
  return c.problems;
}

/** The continuous mode's problems: the interval's bounds and what it cannot be combined with. */
function continuousProblems(spec: ZfsReplicationSpec, prefix: string): Problem[] {
  if (spec.interval === undefined) return [];
  const c = new Checker("ZfsReplication");
  c.problems.push(...validateInterval(`${prefix}interval`, spec.interval));
  if (spec.scheduler !== "syncoid") {
    c.add(`${prefix}interval`, spec.interval, "needs scheduler: 'syncoid' (a loop service on the source host replicates every interval; scheduler 'up' replicates only when you deploy)");
  }
  if (spec.intervalMinutes !== undefined && spec.intervalMinutes !== 0) {
    c.add(`${prefix}intervalMinutes`, spec.intervalMinutes, "cannot be combined with interval: set one of them (interval in seconds for a loop service, intervalMinutes for a calendar timer)");
  }
  if (spec.backupWindow !== undefined) c.add(`${prefix}backupWindow`, "set", "cannot be combined with interval: near-continuous replication runs all day (use intervalMinutes for a window)");
  c.absPath(`${prefix}textfileDir`, spec.textfileDir).absPath(`${prefix}stateDir`, spec.stateDir);
  return c.problems;
}

/** Every problem with the arguments, thrown at once (pure; runs in the constructor and at preview). */
export function validateZfsReplication(name: string, args: ZfsReplicationArgs): void {
  const spec = resolveZfsReplication(name, args);
  const problems = validateReplicationSpec(spec).map((p) => (p.field === "name" ? { ...p, field: "replicationName" } : p));
  // A targetConnection (or syncoid's sshTarget) that reaches the source's own host is the same host too.
  const source = sourceConnection(args.source, args.connection);
  const t = spec.scheduler === "syncoid" ? spec.sshTarget : undefined;
  const targetHost = t ? { kind: "ssh", host: t.host, port: t.port } : args.targetConnection;
  const self = targetHost !== undefined && sameHost(source, targetHost) ? replicationSelfReference(spec.source, spec.target) : undefined;
  if (self) problems.push({ field: "target", value: spec.target, message: self });
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsReplication ${name}`, problems);
}
