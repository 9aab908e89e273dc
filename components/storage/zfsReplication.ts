import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import { resolveZfsReplication, validateZfsReplication, ZfsReplicationArgs, ZfsReplicationSpec } from "./zfsReplicationArgs";
import type { ReplicationPlan, ZfsReplicationState } from "./zfsReplicationKind";

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
    const spec = resolveZfsReplication(name, args);
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
