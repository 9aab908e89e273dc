import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import { afterSetup, hostSetupFor } from "../host";
import { capacityWarning, requiredBytes, usableBytes } from "./capacity";
import { resolveZfsPool, validateZfsPool, ZfsPoolArgs, ZfsPoolSpec } from "./zfsPoolArgs";
import type { ZfsPoolState } from "./zfsPoolKind";

/** The pool as a host-side resource (the component's child). */
export class ZfsPoolResource extends HostResource<ZfsPoolSpec, ZfsPoolState> {
  declare public readonly name: pulumi.Output<string>;
  declare public readonly guid: pulumi.Output<string | null>;
  declare public readonly sizeBytes: pulumi.Output<number | null>;
  declare public readonly health: pulumi.Output<string | null>;
  constructor(name: string, args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsPoolSpec }, opts?: pulumi.CustomResourceOptions) {
    super("ZfsPool", name, args, opts, ["name", "guid", "sizeBytes", "health"]);
  }
}

/**
 * A ZFS pool: mirror, striped mirrors, raidz or single devices, over disks or files. Never
 * destroyed unless `allowDestroy`; a device that already holds a pool or a file system is
 * refused at preview.
 */
export class ZfsPool extends pulumi.ComponentResource {
  /** The pool's name. */
  public readonly name: pulumi.Output<string>;
  /** The pool's guid (`zpool get guid`). */
  public readonly guid: pulumi.Output<string | null>;
  /** Raw size in bytes (`zpool get size`; rounded on zfs-fuse). */
  public readonly sizeBytes: pulumi.Output<number | null>;
  /** ONLINE, DEGRADED, ... */
  public readonly health: pulumi.Output<string | null>;
  /** C of the capacity plan in bytes (undefined without a plan). */
  public readonly capacityRequiredBytes: pulumi.Output<number | undefined>;
  /** The host-side resource (depend on it). */
  public readonly pool: ZfsPoolResource;
  /** Where the pool lives (datasets given this pool default to it). */
  public readonly connection?: pulumi.Input<ConnectionSpec>;

  constructor(name: string, args: ZfsPoolArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Every input is checked before anything, the component included, is registered.
    validateZfsPool(name, args);
    super("kvmshare:storage:ZfsPool", name, {}, opts);
    const r = resolveZfsPool(name, args);
    this.connection = args.connection;
    // zfsutils-linux (+ zfs-dkms on Debian) only when asked: a dkms build is minutes of work.
    const setup = hostSetupFor(this, name, args.connection, ["zfs"], args.hostSetup, false);
    this.pool = new ZfsPoolResource(`${name}-pool`, { connection: args.connection, spec: afterSetup(setup, r.spec) as unknown as ZfsPoolSpec }, { parent: this });
    this.name = this.pool.name;
    this.guid = this.pool.guid;
    this.sizeBytes = this.pool.sizeBytes;
    this.health = this.pool.health;
    this.capacityRequiredBytes = pulumi.output(r.capacityPlan ? requiredBytes(r.capacityPlan) : undefined);
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
    this.registerOutputs({ name: this.name, guid: this.guid, sizeBytes: this.sizeBytes, health: this.health, capacityRequiredBytes: this.capacityRequiredBytes });
  }
}
