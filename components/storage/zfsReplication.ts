import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { ZfsDataset } from "./zfsDataset";
import { ReplicationPlan, validateReplicationSpec, ZfsReplicationSpec, ZfsReplicationState } from "./zfsReplicationKind";

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
  /** Minutes between runs; 0 replicates on every `up`. @default 0 */
  intervalMinutes?: number;
  /** The replication's own snapshots kept on each side. @default 2 */
  keepSnapshots?: number;
  /** Resumable receive (`-s`): "auto" where the target's ZFS supports it; true fails on hosts without it. @default "auto" */
  resumable?: boolean | "auto";
  /** Set readonly=on on the target after receiving so it cannot diverge. @default true */
  readonlyTarget?: boolean;
  /** Report the plan (full/incremental, from, to, estimated bytes) in the `plan` output and move nothing. @default false */
  dryRun?: boolean;
  /** Allow `zfs receive -F` on a diverged target (discards its changes). @default false: a diverged target is an error */
  allowDestroy?: boolean;
}

export function resolveZfsReplicationArgs(name: string, args: ZfsReplicationArgs): ZfsReplicationSpec {
  const rname = args.replicationName ?? name;
  return {
    name: rname,
    source: typeof args.source === "string" ? args.source : args.source.datasetName,
    target: args.target,
    prefix: args.prefix ?? `kvmshare-repl-${rname}`,
    intervalMinutes: args.intervalMinutes ?? 0,
    keepSnapshots: args.keepSnapshots ?? 2,
    resumable: args.resumable ?? "auto",
    readonlyTarget: args.readonlyTarget ?? true,
    dryRun: args.dryRun ?? false,
    allowDestroy: args.allowDestroy ?? false,
    targetLocal: args.targetConnection === undefined,
  };
}

export function validateZfsReplication(name: string, args: ZfsReplicationArgs): void {
  const problems = validateReplicationSpec(resolveZfsReplicationArgs(name, args)).map((p) => (p.field === "name" ? { ...p, field: "replicationName" } : p));
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsReplication ${name}`, problems);
}

export class ZfsReplicationResource extends HostResource<ZfsReplicationSpec, ZfsReplicationState> {
  declare public readonly lastSnapshot: pulumi.Output<string | null>;
  declare public readonly inSync: pulumi.Output<boolean>;
  declare public readonly plan: pulumi.Output<ReplicationPlan | null>;
  constructor(
    name: string,
    args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsReplicationSpec; secrets?: pulumi.Input<Record<string, pulumi.Input<string>>> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super("ZfsReplication", require.resolve("./zfsReplicationKind"), name, args, opts, ["lastSnapshot", "inSync", "plan"]);
  }
}

/**
 * Incremental backup of a dataset to another pool or host: full send the first time, then
 * `zfs send -i` from the newest common snapshot; a diverged target is refused, never
 * overwritten, unless `allowDestroy`.
 */
export class ZfsReplication extends pulumi.ComponentResource {
  /** `dataset@snapshot` last sent. */
  public readonly lastSnapshot: pulumi.Output<string | null>;
  /** The target holds the source's newest replication snapshot. */
  public readonly inSync: pulumi.Output<boolean>;
  /** With `dryRun`: what would be sent and its estimated size. */
  public readonly plan: pulumi.Output<ReplicationPlan | null>;
  public readonly resource: ZfsReplicationResource;

  constructor(name: string, args: ZfsReplicationArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsReplication(name, args);
    super("kvmshare:storage:ZfsReplication", name, {}, opts);
    const spec = resolveZfsReplicationArgs(name, args);
    const src = typeof args.source === "string" ? undefined : args.source;
    const secrets = args.targetConnection !== undefined ? { targetConnection: pulumi.output(args.targetConnection).apply((c) => JSON.stringify(c)) } : undefined;
    this.resource = new ZfsReplicationResource(
      `${name}-replication`,
      { connection: args.connection ?? src?.connection, spec, secrets },
      { parent: this, dependsOn: src ? [src.dataset] : [] },
    );
    this.lastSnapshot = this.resource.lastSnapshot;
    this.inSync = this.resource.inSync;
    this.plan = this.resource.plan;
    this.registerOutputs({ lastSnapshot: this.lastSnapshot, inSync: this.inSync, plan: this.plan });
  }
}
