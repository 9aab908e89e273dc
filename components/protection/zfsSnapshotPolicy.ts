import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import { resolveZfsSnapshotPolicy, validateZfsSnapshotPolicy, ZfsSnapshotPolicyArgs, ZfsSnapshotPolicySpec } from "./zfsSnapshotPolicyArgs";
import type { ZfsSnapshotPolicyState } from "./zfsSnapshotPolicyKind";
import type { SanoidPolicyState } from "./sanoidPolicyKind";
import { intervalRetention, sanoidRetention, SnapshotRetention } from "../storage";

export class ZfsSnapshotPolicyResource extends HostResource<ZfsSnapshotPolicySpec, ZfsSnapshotPolicyState> {
  declare public readonly policy: pulumi.Output<string>;
  declare public readonly latestSnapshot: pulumi.Output<string | null>;
  declare public readonly snapshotCount: pulumi.Output<number>;
  constructor(name: string, args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsSnapshotPolicySpec }, opts?: pulumi.CustomResourceOptions) {
    super("ZfsSnapshotPolicy", name, args, opts, ["policy", "latestSnapshot", "snapshotCount"]);
  }
}

export class SanoidPolicyResource extends HostResource<ZfsSnapshotPolicySpec, SanoidPolicyState> {
  declare public readonly policy: pulumi.Output<string>;
  declare public readonly latestSnapshot: pulumi.Output<string | null>;
  declare public readonly snapshotCount: pulumi.Output<number>;
  declare public readonly newestSnapshotAgeSec: pulumi.Output<number | null>;
  declare public readonly timerUnit: pulumi.Output<string>;
  constructor(name: string, args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsSnapshotPolicySpec }, opts?: pulumi.CustomResourceOptions) {
    super("SanoidPolicy", name, args, opts, ["policy", "latestSnapshot", "snapshotCount", "newestSnapshotAgeSec", "timerUnit"]);
  }
}

/**
 * Snapshots of one dataset with retention: a snapshot on each `up` (or every `intervalMinutes`),
 * pruned by count and age; only snapshots this policy took are ever deleted. With
 * `scheduler: "sanoid"` the host takes them itself, between deploys: sanoid from a systemd timer
 * kvmshare installs (`resource` is then a `SanoidPolicyResource`).
 */
export class ZfsSnapshotPolicy extends pulumi.ComponentResource {
  /** `dataset@snapshot` of the newest snapshot the policy took. */
  public readonly latestSnapshot: pulumi.Output<string | null>;
  /** How many of the policy's snapshots exist. */
  public readonly snapshotCount: pulumi.Output<number>;
  /** sanoid: age of the newest `autosnap_*` snapshot at the last apply/refresh, seconds (null otherwise). */
  public readonly newestSnapshotAgeSec: pulumi.Output<number | null>;
  public readonly resource: ZfsSnapshotPolicyResource | SanoidPolicyResource;
  /** What the policy keeps at steady state (known at construction): pass it to a capacityPlan's `snapshotRetention`. */
  public readonly retention: SnapshotRetention;

  constructor(name: string, args: ZfsSnapshotPolicyArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsSnapshotPolicy(name, args);
    super("kvmshare:storage:ZfsSnapshotPolicy", name, {}, opts);
    const spec = resolveZfsSnapshotPolicy(name, args);
    const ds = typeof args.dataset === "string" ? undefined : args.dataset;
    this.retention =
      spec.scheduler === "sanoid"
        ? sanoidRetention({ hourly: spec.hourly!, daily: spec.daily!, monthly: spec.monthly! })
        : intervalRetention(spec.keep!, spec.intervalMinutes!, spec.maxAgeDays);
    const childArgs = { connection: args.connection ?? ds?.connection, spec };
    const childOpts = { parent: this, dependsOn: ds ? [ds.dataset] : [] };
    if (spec.scheduler === "sanoid") {
      const r = new SanoidPolicyResource(`${name}-sanoid`, childArgs, childOpts);
      this.resource = r;
      this.newestSnapshotAgeSec = r.newestSnapshotAgeSec;
    } else {
      this.resource = new ZfsSnapshotPolicyResource(`${name}-policy`, childArgs, childOpts);
      this.newestSnapshotAgeSec = pulumi.output(null);
    }
    this.latestSnapshot = this.resource.latestSnapshot;
    this.snapshotCount = this.resource.snapshotCount;
    this.registerOutputs({ latestSnapshot: this.latestSnapshot, snapshotCount: this.snapshotCount, newestSnapshotAgeSec: this.newestSnapshotAgeSec });
  }
}
