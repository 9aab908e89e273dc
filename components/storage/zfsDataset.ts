import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import { parseSize } from "../../core/validate";
import { capacityWarning, requiredBytes } from "./capacity";
import { resolveZfsDataset, validateZfsDataset, ZfsDatasetArgs, ZfsDatasetSpec } from "./zfsDatasetArgs";
import type { ZfsDatasetState } from "./zfsDatasetKind";

/** The dataset as a host-side resource (the component's child). */
export class ZfsDatasetResource extends HostResource<ZfsDatasetSpec, ZfsDatasetState> {
  declare public readonly name: pulumi.Output<string>;
  declare public readonly guid: pulumi.Output<string | null>;
  declare public readonly mountpoint: pulumi.Output<string | null>;
  declare public readonly usedBytes: pulumi.Output<number | null>;
  declare public readonly availableBytes: pulumi.Output<number | null>;
  constructor(name: string, args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsDatasetSpec }, opts?: pulumi.CustomResourceOptions) {
    super("ZfsDataset", name, args, opts, ["name", "guid", "mountpoint", "usedBytes", "availableBytes"]);
  }
}

/** A ZFS dataset with validated properties and ACL entries; never destroyed unless `allowDestroy`. */
export class ZfsDataset extends pulumi.ComponentResource {
  /** Full dataset name. */
  public readonly name: pulumi.Output<string>;
  public readonly guid: pulumi.Output<string | null>;
  /** Where it is mounted (the `mountpoint` property). */
  public readonly mountpoint: pulumi.Output<string | null>;
  public readonly usedBytes: pulumi.Output<number | null>;
  public readonly availableBytes: pulumi.Output<number | null>;
  /** The host-side resource (depend on it). */
  public readonly dataset: ZfsDatasetResource;
  /** The full dataset name, as a plain value (for policies and replication built on it). */
  public readonly datasetName: string;
  /** Where it lives. */
  public readonly connection?: pulumi.Input<ConnectionSpec>;

  constructor(name: string, args: ZfsDatasetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsDataset(name, args);
    super("kvmshare:storage:ZfsDataset", name, {}, opts);
    const spec = resolveZfsDataset(args);
    const connection = args.connection ?? args.pool?.connection;
    this.datasetName = spec.name;
    this.connection = connection;
    this.dataset = new ZfsDatasetResource(
      `${name}-dataset`,
      { connection, spec },
      { parent: this, dependsOn: args.pool ? [args.pool.pool] : [] },
    );
    this.name = this.dataset.name;
    this.guid = this.dataset.guid;
    this.mountpoint = this.dataset.mountpoint;
    this.usedBytes = this.dataset.usedBytes;
    this.availableBytes = this.dataset.availableBytes;
    const plan = args.capacityPlan;
    if (plan) {
      const quota = spec.properties?.quota;
      const quotaBytes = quota !== undefined && quota !== "none" ? parseSize(quota) : undefined;
      const what = `dataset ${spec.name}`;
      if (quotaBytes !== undefined) {
        const w = capacityWarning(`${what} quota`, plan, quotaBytes);
        if (w) pulumi.log.warn(w, this);
      } else {
        pulumi.all([this.availableBytes, this.usedBytes]).apply(([avail, used]) => {
          const w = capacityWarning(`${what} (used + available)`, plan, avail === null ? undefined : avail + (used ?? 0));
          if (w) pulumi.log.warn(w, this);
        });
      }
    }
    this.registerOutputs({
      name: this.name,
      guid: this.guid,
      mountpoint: this.mountpoint,
      capacityRequiredBytes: plan ? requiredBytes(plan) : undefined,
    });
  }
}
