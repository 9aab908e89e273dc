/**
 * ZfsDataset's arguments (declared once, documented), their defaults, how they resolve into the
 * spec the host kind receives, and their pure validation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { Checker, parseMode } from "../../core/validate";
import { validateAcl } from "./acl";
import { CapacityPlan, validateCapacityPlan } from "./capacity";
import { validateDatasetName } from "./zfsNames";
import type { ZfsPool } from "./zfsPool";
import { normalizeValue, validateProperties, ZfsDatasetProperties } from "./zfsProps";

export interface ZfsDatasetArgs {
  /** The host. @default the pool's connection when `pool` is given, else this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Full dataset name, `pool/path` (e.g. `tank/vmshare`). @fieldKind name */
  datasetName: string;
  /** The pool component it lives in: the dataset is created after it (and uses its connection). @default none: the pool must exist */
  pool?: ZfsPool;
  /**
   * Properties, validated against what OpenZFS accepts and checked at preview against the host's
   * ZFS (zfs-fuse has no lz4/zstd/sync, recordsize <= 128K). @default none set: all inherited
   */
  properties?: ZfsDatasetProperties;
  /** POSIX ACL entries for the mount point (setfacl syntax: `u:1000:rwx`, `d:g:kvm:rx`); needs `acltype: "posix"`. @default none: the ACL is not managed @fieldKind free */
  acl?: string[];
  /**
   * Permission bits of the dataset's root directory (its mount point), octal: e.g. "2775"
   * (setgid: files created in it keep its group) or "0750". Read back and put back like a
   * property (a hand `chmod` shows as drift of `mode`); the dataset must be mounted. World-writable
   * without the sticky bit (e.g. "0777") is refused.
   * @default unset: the mode is not managed (a new dataset's root is 0755)
   * @fieldKind free
   */
  mode?: string;
  /** Removing the resource runs `zfs destroy -r` (the dataset and its snapshots; refused while it has child datasets). @default false: the dataset is left in place */
  allowDestroy?: boolean;
  /** Warn at preview when the quota (or, once created, the available space) is below C = 1.2 x (Dpeak + Davg x T) + S. @default unset: no check */
  capacityPlan?: CapacityPlan;
}

/** The Args fields the host kind receives as they are. */
type DatasetFields = Plain<Omit<ZfsDatasetArgs, "connection" | "datasetName" | "pool" | "capacityPlan">>;
/** Fields without a default: unset means "not managed" (see their docs). */
type DatasetUnset = "properties" | "acl" | "mode";

/** The dataset as its host kind receives it: the Args' fields, `datasetName` as `name`. */
export type ZfsDatasetSpec = DatasetFields & {
  /** Full name, `pool/path/to/dataset` (the Args' `datasetName`). */
  name: string;
};

export const ZFS_DATASET_DEFAULTS: Defaults<DatasetFields, DatasetUnset> = { allowDestroy: false };

export function resolveZfsDataset(args: ZfsDatasetArgs): ZfsDatasetSpec {
  const { connection, datasetName, pool, capacityPlan, ...fields } = args;
  return { name: datasetName, ...resolveDefaults<DatasetFields, DatasetUnset>(fields, ZFS_DATASET_DEFAULTS) };
}


/** The property that keeps a dataset from being mounted by ZFS (`[name, value]`), if any. */
function unmountedBy(props: ZfsDatasetProperties | undefined): [string, string] | undefined {
  const mp = props?.mountpoint;
  if (mp === "none" || mp === "legacy") return ["mountpoint", mp];
  const cm = props?.canmount;
  if (cm === "off" || cm === "noauto") return ["canmount", cm];
  return undefined;
}

/** Every problem with a dataset spec (pure; also the kind's `validate`). */
export function validateDatasetSpec(spec: ZfsDatasetSpec, prefix = ""): Problem[] {
  const c = new Checker("ZfsDataset");
  c.required(`${prefix}name`, spec.name);
  c.problems.push(...validateDatasetName(spec.name, `${prefix}name`));
  c.problems.push(...validateProperties(spec.properties as Record<string, unknown>, `${prefix}properties.`));
  c.problems.push(...validateAcl(spec.acl, `${prefix}acl`));
  if (spec.acl?.length && spec.properties?.acltype !== undefined && normalizeValue("acltype", spec.properties.acltype) !== "posix") {
    c.add(`${prefix}properties.acltype`, spec.properties.acltype, "must be 'posix' (or 'posixacl') when acl entries are declared");
  }
  if (spec.mode !== undefined && typeof spec.mode !== "string") c.add(`${prefix}mode`, spec.mode, "must be an octal mode written as a string, e.g. '2775' or '0750'");
  else c.mode(`${prefix}mode`, spec.mode);
  const bits = typeof spec.mode === "string" ? parseMode(spec.mode) : undefined;
  if (bits !== undefined && bits & 0o002 && !(bits & 0o1000)) {
    c.add(`${prefix}mode`, spec.mode, "lets every user on the host write into the share's root without the sticky bit (anyone could delete or replace anyone's files): use a group ('2775' with the share's group) or add the sticky bit ('1777', like /tmp)");
  }
  const unmounted = spec.mode !== undefined ? unmountedBy(spec.properties) : undefined;
  if (unmounted) c.add(`${prefix}mode`, spec.mode, `needs the dataset mounted, but properties.${unmounted[0]} is '${unmounted[1]}': drop mode, or mount the dataset (a mountpoint path, canmount on)`);
  if (spec.allowDestroy !== undefined && typeof spec.allowDestroy !== "boolean") c.add(`${prefix}allowDestroy`, spec.allowDestroy, "must be true or false");
  return c.problems;
}

/** Every problem with the arguments, thrown at once (pure; runs in the constructor and at preview). */
export function validateZfsDataset(name: string, args: ZfsDatasetArgs): void {
  const problems = [...validateDatasetSpec(resolveZfsDataset(args), ""), ...validateCapacityPlan(args.capacityPlan)];
  if (args.datasetName === undefined) problems.unshift({ field: "datasetName", value: undefined, message: "is required, e.g. 'tank/vmshare'" });
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsDataset ${name}`, problems.map((p) => (p.field === "name" ? { ...p, field: "datasetName" } : p)));
}
