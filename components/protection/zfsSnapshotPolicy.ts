import * as pulumi from "@pulumi/pulumi";
import { hostResourceClass, out, Outputs } from "../../core/component";
import { HostComponent } from "../host";
import { resolveZfsSnapshotPolicy, validateZfsSnapshotPolicy, ZfsSnapshotPolicyArgs, ZfsSnapshotPolicySpec } from "./zfsSnapshotPolicyArgs";
import type { ZfsSnapshotPolicyState } from "./zfsSnapshotPolicyKind";
import type { SanoidPolicyState } from "./sanoidPolicyKind";
import { onDataset } from "./onDataset";
import { intervalRetention, sanoidRetention, SnapshotRetention } from "../storage";

/** The snapshots both schedulers' resources report, and the component with them. */
const SNAPSHOT_OUTPUTS = {
  /** `dataset@snapshot` of the newest snapshot the policy took. */
  latestSnapshot: out<string | null>(),
  /** How many of the policy's snapshots exist. */
  snapshotCount: out<number>(),
};

/** What both schedulers' resources output. */
const POLICY_OUTPUTS = { policy: out<string>(), ...SNAPSHOT_OUTPUTS };

export const ZfsSnapshotPolicyResource = hostResourceClass<ZfsSnapshotPolicySpec, ZfsSnapshotPolicyState>()("ZfsSnapshotPolicy", POLICY_OUTPUTS);
export type ZfsSnapshotPolicyResource = InstanceType<typeof ZfsSnapshotPolicyResource>;

export const SanoidPolicyResource = hostResourceClass<ZfsSnapshotPolicySpec, SanoidPolicyState>()("SanoidPolicy", {
  ...POLICY_OUTPUTS,
  newestSnapshotAgeSec: out<number | null>(),
  timerUnit: out<string>(),
});
export type SanoidPolicyResource = InstanceType<typeof SanoidPolicyResource>;

/** The policy's outputs shared with its resource (`SNAPSHOT_OUTPUTS`); `newestSnapshotAgeSec` is the component's own. */
export interface ZfsSnapshotPolicy extends Outputs<typeof SNAPSHOT_OUTPUTS> {}

/**
 * Snapshots of one dataset with retention: a snapshot on each `up` (or every `intervalMinutes`),
 * pruned by count and age; only snapshots this policy took are ever deleted. With
 * `scheduler: "sanoid"` the host takes them itself, between deploys: sanoid from a systemd timer
 * kvmshare installs (`resource` is then a `SanoidPolicyResource`).
 */
export class ZfsSnapshotPolicy extends HostComponent<ZfsSnapshotPolicy> {
  /** sanoid: age of the newest `autosnap_*` snapshot at the last apply/refresh, seconds (null otherwise). */
  declare public readonly newestSnapshotAgeSec: pulumi.Output<number | null>;
  public readonly resource: ZfsSnapshotPolicyResource | SanoidPolicyResource;
  /** What the policy keeps at steady state (known at construction): pass it to a capacityPlan's `snapshotRetention`. */
  public readonly retention: SnapshotRetention;

  constructor(name: string, args: ZfsSnapshotPolicyArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsSnapshotPolicy(name, args);
    super("kvmshare:storage:ZfsSnapshotPolicy", name, opts);
    const spec = resolveZfsSnapshotPolicy(name, args);
    this.retention =
      spec.scheduler === "sanoid"
        ? sanoidRetention({ hourly: spec.hourly!, daily: spec.daily!, monthly: spec.monthly! })
        : intervalRetention(spec.keep!, spec.intervalMinutes!, spec.maxAgeDays);
    const { connection, childOpts } = onDataset(args.dataset, args.connection);
    const childArgs = { connection, spec };
    let newestSnapshotAgeSec: pulumi.Output<number | null> = pulumi.output(null);
    if (spec.scheduler === "sanoid") {
      const r = this.hostResource(SanoidPolicyResource, "sanoid", childArgs, childOpts).resource;
      this.resource = r;
      newestSnapshotAgeSec = r.newestSnapshotAgeSec;
    } else {
      this.resource = this.hostResource(ZfsSnapshotPolicyResource, "policy", childArgs, childOpts).resource;
    }
    const { latestSnapshot, snapshotCount } = this.resource;
    this.publish({ latestSnapshot, snapshotCount, newestSnapshotAgeSec });
  }
}
