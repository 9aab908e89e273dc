/**
 * ZfsReplication's arguments (declared once, documented), their defaults, how they resolve into
 * the spec the host kind receives, and their pure validation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { Checker } from "../../core/validate";
import type { ZfsDataset } from "./zfsDataset";
import { datasetNameOf, validateDatasetName, validateSnapshotPrefix } from "./zfsNames";

export interface ZfsReplicationArgs {
  /** The source host. @default the source dataset component's connection, else this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Source dataset: a `ZfsDataset` component or its full name. */
  source: ZfsDataset | string;
  /** Target dataset name, e.g. `backup/vmshare` (its parent must exist). */
  target: string;
  /** The target host (another pool on this machine when omitted). Stored as a secret: it may hold a key. @default this machine */
  targetConnection?: pulumi.Input<ConnectionSpec>;
  /** Name stored in the source snapshots' `kvmshare:replication` property. @default the resource name */
  replicationName?: string;
  /** Snapshot name prefix. @default `kvmshare-repl-<replicationName>` */
  prefix?: string;
  /** Minutes between runs; 0 replicates on every `up`. @default 0: a run on every up */
  intervalMinutes?: number;
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
}

/** The Args fields the host kind receives as they are. */
type ReplicationFields = Plain<Omit<ZfsReplicationArgs, "connection" | "source" | "targetConnection" | "replicationName">>;
/** Fields without a table default (`prefix` derives from the replication name). */
type ReplicationUnset = "prefix";

/** The replication as its host kind receives it: the Args' fields, names resolved, no connection (it is a secret). */
export type ZfsReplicationSpec = ReplicationFields & {
  /** Replication name (`replicationName`, else the resource name), stored in each source snapshot's `kvmshare:replication` property. */
  name: string;
  /** Source dataset (on the resource's connection). */
  source: string;
  /** The target is on the same host as the source (no `targetConnection`): preview checks it too. */
  targetLocal?: boolean;
  [k: string]: unknown;
};

export const ZFS_REPLICATION_DEFAULTS: Defaults<ReplicationFields, ReplicationUnset> = {
  intervalMinutes: 0,
  keepSnapshots: 2,
  resumable: "auto",
  readonlyTarget: true,
  dryRun: false,
  allowDestroy: false,
};

/** The snapshot name prefix: the declared one, else `kvmshare-repl-<name>`. */
export function replicationPrefix(spec: Pick<ZfsReplicationSpec, "name" | "prefix">): string {
  return spec.prefix ?? `kvmshare-repl-${spec.name}`;
}

export function resolveZfsReplication(name: string, args: ZfsReplicationArgs): ZfsReplicationSpec {
  const { connection, source, targetConnection, replicationName, ...fields } = args;
  const rname = replicationName ?? name;
  return {
    name: rname,
    source: datasetNameOf(source),
    ...resolveDefaults<ReplicationFields, ReplicationUnset>(fields, ZFS_REPLICATION_DEFAULTS),
    prefix: replicationPrefix({ name: rname, prefix: fields.prefix }),
    targetLocal: targetConnection === undefined,
  };
}

/** @deprecated use resolveZfsReplication */
export const resolveZfsReplicationArgs = resolveZfsReplication;

/** Every problem with a replication spec (pure; also the kind's `validate`). */
export function validateReplicationSpec(spec: ZfsReplicationSpec, prefix = ""): Problem[] {
  const c = new Checker("ZfsReplication");
  c.required(`${prefix}name`, spec.name).name(`${prefix}name`, spec.name);
  c.required(`${prefix}source`, spec.source);
  c.required(`${prefix}target`, spec.target);
  c.problems.push(...validateDatasetName(spec.source, `${prefix}source`), ...validateDatasetName(spec.target, `${prefix}target`));
  c.problems.push(...validateSnapshotPrefix(spec.prefix, `${prefix}prefix`));
  c.int(`${prefix}intervalMinutes`, spec.intervalMinutes, 0, 525_600, "0 = on every up; 60 = hourly");
  c.int(`${prefix}keepSnapshots`, spec.keepSnapshots, 1, 10_000, "at least 1: the newest common snapshot is the base of the next increment");
  if (spec.resumable !== undefined && ![true, false, "auto"].includes(spec.resumable as never)) c.add(`${prefix}resumable`, spec.resumable, "must be true, false or 'auto'");
  for (const k of ["dryRun", "allowDestroy", "readonlyTarget"] as const) {
    if (spec[k] !== undefined && typeof spec[k] !== "boolean") c.add(`${prefix}${k}`, spec[k], "must be true or false");
  }
  return c.problems;
}

/** Every problem with the arguments, thrown at once (pure; runs in the constructor and at preview). */
export function validateZfsReplication(name: string, args: ZfsReplicationArgs): void {
  const problems = validateReplicationSpec(resolveZfsReplication(name, args)).map((p) => (p.field === "name" ? { ...p, field: "replicationName" } : p));
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsReplication ${name}`, problems);
}
