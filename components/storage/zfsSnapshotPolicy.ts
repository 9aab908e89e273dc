import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import { resolveZfsSnapshotPolicy, validateZfsSnapshotPolicy, ZfsSnapshotPolicyArgs, ZfsSnapshotPolicySpec } from "./zfsSnapshotPolicyArgs";
import type { ZfsSnapshotPolicyState } from "./zfsSnapshotPolicyKind";

export class ZfsSnapshotPolicyResource extends HostResource<ZfsSnapshotPolicySpec, ZfsSnapshotPolicyState> {
  declare public readonly policy: pulumi.Output<string>;
  declare public readonly latestSnapshot: pulumi.Output<string | null>;
  declare public readonly snapshotCount: pulumi.Output<number>;
  constructor(name: string, args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsSnapshotPolicySpec }, opts?: pulumi.CustomResourceOptions) {
    super("ZfsSnapshotPolicy", name, args, opts, ["policy", "latestSnapshot", "snapshotCount"]);
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
    const spec = resolveZfsSnapshotPolicy(name, args);
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
