import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { ZfsDataset } from "./zfsDataset";
import { validateSnapshotPolicySpec, ZfsSnapshotPolicySpec, ZfsSnapshotPolicyState } from "./zfsSnapshotPolicyKind";

export interface ZfsSnapshotPolicyArgs {
  /** The host. @default the dataset component's connection, else this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The dataset: a `ZfsDataset` component (dependency and connection follow) or its full name. */
  dataset: ZfsDataset | string;
  /** Policy name, stored in each snapshot's `kvmshare:policy` user property. @default the resource name */
  policyName?: string;
  /** Snapshot name prefix. @default `kvmshare-<policyName>` */
  prefix?: string;
  /** Minutes between snapshots; 0 takes one on every `up`. @default 0 */
  intervalMinutes?: number;
  /** How many of the policy's newest snapshots to keep. @default 7 */
  keep?: number;
  /** Also prune the policy's snapshots older than this (the newest is always kept). @default no age limit */
  maxAgeDays?: number;
  /** Removing the policy destroys its own snapshots. @default false: they stay */
  allowDestroy?: boolean;
}

function datasetName(d: ZfsDataset | string): string {
  return typeof d === "string" ? d : d.datasetName;
}

export function resolveZfsSnapshotPolicyArgs(name: string, args: ZfsSnapshotPolicyArgs): ZfsSnapshotPolicySpec {
  const policy = args.policyName ?? name;
  return {
    policy,
    dataset: datasetName(args.dataset),
    prefix: args.prefix ?? `kvmshare-${policy}`,
    intervalMinutes: args.intervalMinutes ?? 0,
    keep: args.keep ?? 7,
    ...(args.maxAgeDays !== undefined ? { maxAgeDays: args.maxAgeDays } : {}),
    allowDestroy: args.allowDestroy ?? false,
  };
}

export function validateZfsSnapshotPolicy(name: string, args: ZfsSnapshotPolicyArgs): void {
  const problems = validateSnapshotPolicySpec(resolveZfsSnapshotPolicyArgs(name, args)).map((p) => (p.field === "policy" ? { ...p, field: "policyName" } : p));
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsSnapshotPolicy ${name}`, problems);
}

export class ZfsSnapshotPolicyResource extends HostResource<ZfsSnapshotPolicySpec, ZfsSnapshotPolicyState> {
  declare public readonly policy: pulumi.Output<string>;
  declare public readonly latestSnapshot: pulumi.Output<string | null>;
  declare public readonly snapshotCount: pulumi.Output<number>;
  constructor(name: string, args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsSnapshotPolicySpec }, opts?: pulumi.CustomResourceOptions) {
    super("ZfsSnapshotPolicy", require.resolve("./zfsSnapshotPolicyKind"), name, args, opts, ["policy", "latestSnapshot", "snapshotCount"]);
  }
}

/**
 * Snapshots of one dataset with retention: a snapshot on each `up` (or every `intervalMinutes`),
 * pruned by count and age; only snapshots this policy took are ever deleted.
 */
export class ZfsSnapshotPolicy extends pulumi.ComponentResource {
  /** `dataset@snapshot` of the newest snapshot the policy took. */
  public readonly latestSnapshot: pulumi.Output<string | null>;
  /** How many of the policy's snapshots exist. */
  public readonly snapshotCount: pulumi.Output<number>;
  public readonly resource: ZfsSnapshotPolicyResource;

  constructor(name: string, args: ZfsSnapshotPolicyArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsSnapshotPolicy(name, args);
    super("kvmshare:storage:ZfsSnapshotPolicy", name, {}, opts);
    const spec = resolveZfsSnapshotPolicyArgs(name, args);
    const ds = typeof args.dataset === "string" ? undefined : args.dataset;
    this.resource = new ZfsSnapshotPolicyResource(
      `${name}-policy`,
      { connection: args.connection ?? ds?.connection, spec },
      { parent: this, dependsOn: ds ? [ds.dataset] : [] },
    );
    this.latestSnapshot = this.resource.latestSnapshot;
    this.snapshotCount = this.resource.snapshotCount;
    this.registerOutputs({ latestSnapshot: this.latestSnapshot, snapshotCount: this.snapshotCount });
  }
}
