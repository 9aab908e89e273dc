import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { hostResourceClass, out } from "../../core/component";
import { HostComponent } from "../host";
import { parseSize } from "../../core/validate";
import { capacityWarning, requiredBytes } from "./capacity";
import { resolveZfsDataset, validateZfsDataset, ZfsDatasetArgs, ZfsDatasetSpec } from "./zfsDatasetArgs";
import type { ZfsDatasetState } from "./zfsDatasetKind";

/** The dataset as a host-side resource (the component's child). */
export const ZfsDatasetResource = hostResourceClass<ZfsDatasetSpec, ZfsDatasetState>()("ZfsDataset", {
  name: out<string>(),
  guid: out<string | null>(),
  mountpoint: out<string | null>(),
  usedBytes: out<number | null>(),
  availableBytes: out<number | null>(),
});
export type ZfsDatasetResource = InstanceType<typeof ZfsDatasetResource>;

/** A ZFS dataset with validated properties and ACL entries; never destroyed unless `allowDestroy`. */
export class ZfsDataset extends HostComponent<ZfsDataset> {
  /** Full dataset name. */
  declare public readonly name: pulumi.Output<string>;
  declare public readonly guid: pulumi.Output<string | null>;
  /** Where it is mounted (the `mountpoint` property). */
  declare public readonly mountpoint: pulumi.Output<string | null>;
  declare public readonly usedBytes: pulumi.Output<number | null>;
  declare public readonly availableBytes: pulumi.Output<number | null>;
  /** C of the capacity plan in bytes (undefined without a plan). */
  declare public readonly capacityRequiredBytes: pulumi.Output<number | undefined>;
  /** The host-side resource (depend on it). */
  public readonly dataset: ZfsDatasetResource;
  /** The full dataset name, as a plain value (for policies and replication built on it). */
  public readonly datasetName: string;
  /** Where it lives. */
  public readonly connection?: pulumi.Input<ConnectionSpec>;

  constructor(name: string, args: ZfsDatasetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsDataset(name, args);
    super("kvmshare:storage:ZfsDataset", name, opts);
    const spec = resolveZfsDataset(args);
    const connection = args.connection ?? args.pool?.connection;
    this.datasetName = spec.name;
    this.connection = connection;
    this.dataset = this.hostResource(ZfsDatasetResource, "dataset", { connection, spec }, { dependsOn: args.pool ? [args.pool.pool] : [] }).resource;
    const plan = args.capacityPlan;
    const { name: datasetName, guid, mountpoint, usedBytes, availableBytes } = this.dataset;
    this.publish({ name: datasetName, guid, mountpoint, usedBytes, availableBytes, capacityRequiredBytes: pulumi.output(plan ? requiredBytes(plan) : undefined) });
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
  }
}
