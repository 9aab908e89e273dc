/**
 * ZfsPool's arguments (declared once, documented), their defaults, how they resolve into the
 * spec the host kind receives, and their pure validation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { Checker, isUnknown } from "../../core/validate";
import { CapacityPlan, validateCapacityPlan } from "./capacity";
import type { HostSetupArgs } from "../host";

export type VdevType = "disk" | "mirror" | "raidz1" | "raidz2" | "raidz3";

export interface VdevSpec {
  /** `disk` (a plain stripe member), `mirror`, `raidz1`, `raidz2`, `raidz3`. */
  type: VdevType;
  /** Absolute paths: block devices (`/dev/disk/by-id/...`) or files. @fieldKind path device */
  devices: string[];
}

export interface ZfsPoolArgs extends HostSetupArgs {
  /** The host the pool lives on. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Pool name: starts with a letter, not a reserved word (`mirror`, `raidz`, `spare`, `log`, `cache`, ...). @default the resource name @fieldKind name */
  poolName?: string;
  /**
   * Data vdevs, striped together: one `{ type: "mirror", devices: [a, b] }` is a mirror, two of
   * them are striped mirrors, `raidz1/2/3` need 2/3/4+ devices, `disk` is a single device. One
   * type per pool (zpool refuses mixed replication levels).
   */
  vdevs: VdevSpec[];
  /** log2 of the sector size, 9-16 (9-13 on zfs-fuse), set at creation only (12 = 4 KiB). @default unset: ZFS detects it */
  ashift?: number;
  /** Pool properties (`zpool set`): autoexpand, autoreplace, autotrim, failmode, listsnapshots, delegation, comment, cachefile (autotrim and comment: OpenZFS only). @default none set: the pool keeps ZFS's values @fieldKind free */
  properties?: Record<string, string>;
  /** Mount point of the pool's root dataset, or "none" to not mount it. @default unset: /<poolName> @fieldKind path tree */
  mountpoint?: string;
  /** Create missing file devices (sparse) with this size, at least 64: for sandboxes and tests. @default unset: missing files are an error */
  fileSizeMiB?: number;
  /** Removing the resource destroys the pool (`zpool destroy`) and, with `fileSizeMiB`, removes its file devices. @default false: it is exported, its data (and files) kept */
  allowDestroy?: boolean;
  /** Warn at preview when the pool is smaller than C = 1.2 x (Dpeak + Davg x T) + S. @default unset: no check */
  capacityPlan?: CapacityPlan;
}

/** The Args fields the host kind receives as they are. */
type PoolFields = Plain<Omit<ZfsPoolArgs, "connection" | "poolName" | "capacityPlan" | "hostSetup">>;
/** Fields without a default: unset means "not managed" (see their docs). */
type PoolUnset = "ashift" | "properties" | "mountpoint" | "fileSizeMiB";

/** The pool as its host kind receives it: the Args' fields, `poolName` resolved into `name`. */
export type ZfsPoolSpec = PoolFields & {
  /** Pool name (`poolName`, else the resource name). */
  name: string;
};

/** The resolved inputs: the kind's spec and the (component-side) capacity plan. */
export type ResolvedZfsPoolArgs = { spec: ZfsPoolSpec } & Pick<ZfsPoolArgs, "capacityPlan">;

export const ZFS_POOL_DEFAULTS: Defaults<PoolFields, PoolUnset> = { allowDestroy: false };

export function resolveZfsPool(name: string, args: ZfsPoolArgs): ResolvedZfsPoolArgs {
  const { connection, poolName, capacityPlan, hostSetup: _setup, ...fields } = args;
  return { spec: { name: poolName ?? name, ...resolveDefaults<PoolFields, PoolUnset>(fields, ZFS_POOL_DEFAULTS) }, capacityPlan };
}


const MIN_DEVICES: Record<VdevType, number> = { disk: 1, mirror: 2, raidz1: 2, raidz2: 3, raidz3: 4 };
const RESERVED = /^(mirror|raidz|raidz1|raidz2|raidz3|draid|spare|log|cache|special|dedup|c[0-9].*)$/;

/** Pool properties kvmshare manages, with the values OpenZFS accepts; `openzfsOnly` ones zfs-fuse lacks. */
export const POOL_PROPERTIES: Record<string, { values?: string[]; hint?: string; openzfsOnly?: boolean }> = {
  autoexpand: { values: ["on", "off"] },
  autoreplace: { values: ["on", "off"] },
  autotrim: { values: ["on", "off"], openzfsOnly: true },
  failmode: { values: ["wait", "continue", "panic"] },
  listsnapshots: { values: ["on", "off"] },
  delegation: { values: ["on", "off"] },
  comment: { hint: "printable text up to 32 characters", openzfsOnly: true },
  cachefile: { hint: "an absolute path or 'none'" },
};

/** Every problem with a pool spec (pure; also the kind's `validate`). */
export function validatePoolSpec(spec: ZfsPoolSpec, prefix = ""): Problem[] {
  const c = new Checker("ZfsPool");
  const f = (k: string) => `${prefix}${k}`;
  c.required(f("name"), spec.name);
  if (typeof spec.name === "string" && !isUnknown(spec.name)) {
    if (!/^[A-Za-z][A-Za-z0-9_.:-]{0,254}$/.test(spec.name) || RESERVED.test(spec.name)) {
      c.add(f("name"), spec.name, "must start with a letter, hold only letters, digits, '_', '.', ':', '-', and not be a reserved word (mirror, raidz, spare, log, cache, c0...)");
    }
  }
  if (!isUnknown(spec.vdevs)) {
    if (!Array.isArray(spec.vdevs) || spec.vdevs.length === 0) {
      c.add(f("vdevs"), spec.vdevs, "must list at least one vdev, e.g. [{ type: 'mirror', devices: ['/dev/disk/by-id/a', '/dev/disk/by-id/b'] }]");
    } else {
      const seen = new Map<string, string>();
      spec.vdevs.forEach((v, i) => {
        const vf = f(`vdevs[${i}]`);
        if (!v || typeof v !== "object") return void c.add(vf, v, "must be an object { type, devices }");
        c.oneOf(`${vf}.type`, v.type, Object.keys(MIN_DEVICES) as VdevType[]);
        if (!Array.isArray(v.devices)) return void c.add(`${vf}.devices`, v.devices, "must be an array of absolute device or file paths");
        const min = MIN_DEVICES[v.type as VdevType];
        if (min && v.devices.length < min) c.add(`${vf}.devices`, v.devices, `a ${v.type} vdev needs at least ${min} devices`);
        if (v.type === "disk" && v.devices.length !== 1) c.add(`${vf}.devices`, v.devices, "a disk vdev has exactly one device; list one disk vdev per device to stripe");
        v.devices.forEach((d, j) => {
          c.absPath(`${vf}.devices[${j}]`, d, "device");
          if (typeof d === "string" && seen.has(d)) c.add(`${vf}.devices[${j}]`, d, `is already used by ${seen.get(d)}; a device can be in one vdev only`);
          else if (typeof d === "string") seen.set(d, `${vf}.devices[${j}]`);
        });
      });
      const types = new Set(spec.vdevs.map((v) => v?.type));
      if (types.size > 1) {
        c.add(f("vdevs"), [...types], "mixes vdev types; zpool refuses mismatched replication levels (use one type, e.g. striped mirrors: several 'mirror' vdevs)");
      }
    }
  }
  c.int(f("ashift"), spec.ashift, 9, 16, "12 for 4 KiB sectors, 13 for 8 KiB");
  c.int(f("fileSizeMiB"), spec.fileSizeMiB, 64, 16 * 1024 * 1024, "ZFS needs at least 64 MiB per device; the bound 16777216 MiB = 16 TiB is ext4's largest file");
  if (spec.mountpoint !== undefined && !isUnknown(spec.mountpoint) && spec.mountpoint !== "none" && spec.mountpoint !== "legacy") {
    c.absPath(f("mountpoint"), spec.mountpoint, "tree");
  }
  if (spec.allowDestroy !== undefined && typeof spec.allowDestroy !== "boolean") c.add(f("allowDestroy"), spec.allowDestroy, "must be true or false");
  for (const [k, v] of Object.entries(spec.properties ?? {})) {
    const rule = POOL_PROPERTIES[k];
    const pf = f(`properties.${k}`);
    if (!rule) c.add(pf, k, `is not a pool property kvmshare manages; use one of ${Object.keys(POOL_PROPERTIES).join(", ")} (ashift has its own field)`);
    else if (typeof v !== "string") c.add(pf, v, "must be a string");
    else if (rule.values && !rule.values.includes(v)) c.add(pf, v, `${k} must be one of ${rule.values.join(", ")}`);
    else if (k === "comment" && (v.length > 32 || /[^\x20-\x7e]/.test(v))) c.add(pf, v, `comment must be ${rule.hint}`);
    else if (k === "cachefile" && v !== "none" && !v.startsWith("/")) c.add(pf, v, `cachefile must be ${rule.hint}`);
    else if (k === "cachefile" && v !== "none") c.absPath(pf, v);
  }
  return c.problems;
}

/** Every problem with the arguments, thrown at once (pure; runs in the constructor and at preview). */
export function validateZfsPool(name: string, args: ZfsPoolArgs): void {
  const r = resolveZfsPool(name, args);
  const problems = [...validatePoolSpec(r.spec), ...validateCapacityPlan(r.capacityPlan)];
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsPool ${name}`, problems);
}
