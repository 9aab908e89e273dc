import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { CapacityPlan, capacityWarning, requiredBytes, usableBytes, validateCapacityPlan } from "./capacity";
import { validatePoolSpec, VdevSpec, ZfsPoolSpec, ZfsPoolState } from "./zfsPoolKind";

export interface ZfsPoolArgs {
  /** The host the pool lives on. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Pool name. @default the resource name */
  poolName?: string;
  /**
   * Data vdevs, striped together: one `{ type: "mirror", devices: [a, b] }` is a mirror, two of
   * them are striped mirrors, `raidz1/2/3` need 2/3/4+ devices, `disk` is a single device.
   */
  vdevs: VdevSpec[];
  /** log2 of the sector size, set at creation (12 = 4 KiB). @default ZFS's detection */
  ashift?: number;
  /** Pool properties: autoexpand, autoreplace, autotrim, failmode, listsnapshots, delegation, comment, cachefile. @default none set */
  properties?: Record<string, string>;
  /** Mount point of the pool's root dataset, or "none". @default /<poolName> */
  mountpoint?: string;
  /** Create missing file devices (sparse) with this size: for sandboxes and tests. @default missing files are an error */
  fileSizeMiB?: number;
  /** Removing the resource destroys the pool (`zpool destroy`). @default false: it is exported, its data kept */
  allowDestroy?: boolean;
  /** Warn at preview when the pool is smaller than C = 1.2 x (Dpeak + Davg x T) + S. @default no check */
  capacityPlan?: CapacityPlan;
}

/** The fully resolved inputs. */
export interface ResolvedZfsPoolArgs {
  spec: ZfsPoolSpec;
  capacityPlan?: CapacityPlan;
}

export function resolveZfsPoolArgs(name: string, args: ZfsPoolArgs): ResolvedZfsPoolArgs {
  const spec: ZfsPoolSpec = { name: args.poolName ?? name, vdevs: args.vdevs, allowDestroy: args.allowDestroy ?? false };
  if (args.ashift !== undefined) spec.ashift = args.ashift;
  if (args.properties !== undefined) spec.properties = args.properties;
  if (args.mountpoint !== undefined) spec.mountpoint = args.mountpoint;
  if (args.fileSizeMiB !== undefined) spec.fileSizeMiB = args.fileSizeMiB;
  return { spec, capacityPlan: args.capacityPlan };
}

/** Every problem with the arguments (pure; runs in the constructor and at preview). */
export function validateZfsPool(name: string, args: ZfsPoolArgs): void {
  const r = resolveZfsPoolArgs(name, args);
  const problems = [...validatePoolSpec(r.spec), ...validateCapacityPlan(r.capacityPlan)];
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsPool ${name}`, problems);
}

/** The pool as a host-side resource (the component's child). */
export class ZfsPoolResource extends HostResource<ZfsPoolSpec, ZfsPoolState> {
  declare public readonly name: pulumi.Output<string>;
  declare public readonly guid: pulumi.Output<string | null>;
  declare public readonly sizeBytes: pulumi.Output<number | null>;
  declare public readonly health: pulumi.Output<string | null>;
  constructor(name: string, args: { connection?: pulumi.Input<ConnectionSpec>; spec: ZfsPoolSpec }, opts?: pulumi.CustomResourceOptions) {
    super("ZfsPool", require.resolve("./zfsPoolKind"), name, args, opts, ["name", "guid", "sizeBytes", "health"]);
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
    const r = resolveZfsPoolArgs(name, args);
    this.connection = args.connection;
    this.pool = new ZfsPoolResource(`${name}-pool`, { connection: args.connection, spec: r.spec }, { parent: this });
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
