import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { hostResourceClass, out } from "../../core/component";
import { HostComponent, HostSetupPlan } from "../host";
import { capacityWarning, requiredBytes, usableBytes } from "./capacity";
import { resolveZfsPool, validateZfsPool, ZfsPoolArgs, ZfsPoolSpec } from "./zfsPoolArgs";
import type { ZfsPoolState } from "./zfsPoolKind";

/** The pool as a host-side resource (the component's child). */
export const ZfsPoolResource = hostResourceClass<ZfsPoolSpec, ZfsPoolState>()("ZfsPool", {
  name: out<string>(),
  guid: out<string | null>(),
  sizeBytes: out<number | null>(),
  health: out<string | null>(),
});
export type ZfsPoolResource = InstanceType<typeof ZfsPoolResource>;

/**
 * A ZFS pool: mirror, striped mirrors, raidz or single devices, over disks or files. Never
 * destroyed unless `allowDestroy`; a device that already holds a pool or a file system is
 * refused at preview.
 */
export class ZfsPool extends HostComponent<ZfsPool> {
  /** The pool's name. */
  declare public readonly name: pulumi.Output<string>;
  /** The pool's guid (`zpool get guid`). */
  declare public readonly guid: pulumi.Output<string | null>;
  /** Raw size in bytes (`zpool get size`; rounded on zfs-fuse). */
  declare public readonly sizeBytes: pulumi.Output<number | null>;
  /** ONLINE, DEGRADED, ... */
  declare public readonly health: pulumi.Output<string | null>;
  /** C of the capacity plan in bytes (undefined without a plan). */
  declare public readonly capacityRequiredBytes: pulumi.Output<number | undefined>;
  /** The host-side resource (depend on it). */
  public readonly pool: ZfsPoolResource;
  /** Where the pool lives (datasets given this pool default to it). */
  public readonly connection?: pulumi.Input<ConnectionSpec>;

  constructor(name: string, args: ZfsPoolArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsPool(name, args);
    super("kvmshare:storage:ZfsPool", name, opts);
    const r = resolveZfsPool(name, args);
    this.connection = args.connection;
    // zfsutils-linux (+ zfs-dkms on Debian) only when asked: a dkms build is minutes of work.
    const setup: HostSetupPlan = { needs: ["zfs"], setting: args.hostSetup, auto: false };
    this.pool = this.hostResource(ZfsPoolResource, "pool", { connection: args.connection, spec: r.spec, setup }).resource;
    const { name: poolName, guid, sizeBytes, health } = this.pool;
    this.publish({ name: poolName, guid, sizeBytes, health, capacityRequiredBytes: pulumi.output(r.capacityPlan ? requiredBytes(r.capacityPlan) : undefined) });
    if (r.capacityPlan) {
      const plan = r.capacityPlan;
      const fileBytes = r.spec.fileSizeMiB !== undefined ? r.spec.fileSizeMiB * 1024 * 1024 : undefined;
      const estimate = usableBytes(r.spec.vdevs, () => fileBytes);
      const what = `pool ${r.spec.name}`;
      if (estimate !== undefined) {
        const w = capacityWarning(`${what} (declared layout, about)`, plan, estimate);
        if (w) pulumi.log.warn(w, this);
      } else {
        // Disks: the size is known once the pool exists (at the next preview, from state).
        this.sizeBytes.apply((size) => {
          const w = capacityWarning(what, plan, size ?? undefined);
          if (w) pulumi.log.warn(w, this);
        });
      }
    }
  }
}
