/**
 * ZfsSnapshotPolicy's arguments (declared once, documented), their defaults, how they resolve
 * into the spec the host kind receives, and their pure validation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { Checker } from "../../core/validate";
import type { ZfsDataset } from "./zfsDataset";
import { datasetNameOf, validateDatasetName, validateSnapshotPrefix } from "./zfsNames";

export interface ZfsSnapshotPolicyArgs {
  /** The host. @default the dataset component's connection, else this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The dataset: a `ZfsDataset` component (dependency and connection follow) or its full name. */
  dataset: ZfsDataset | string;
  /** Policy name, stored in each snapshot's `kvmshare:policy` user property. @default the resource name */
  policyName?: string;
  /** Snapshot name prefix. @default `kvmshare-<policyName>` */
  prefix?: string;
  /** Minutes between snapshots; 0 takes one on every `up`. @default 0: a snapshot on every up */
  intervalMinutes?: number;
  /** How many of the policy's newest snapshots to keep. @default 7 */
  keep?: number;
  /** Also prune the policy's snapshots older than this many days (the newest is always kept). @default unset: no age limit */
  maxAgeDays?: number;
  /** Removing the policy destroys its own snapshots. @default false: they stay */
  allowDestroy?: boolean;
}

/** The Args fields the host kind receives as they are. */
type PolicyFields = Plain<Omit<ZfsSnapshotPolicyArgs, "connection" | "dataset" | "policyName">>;
/** Fields without a table default (`prefix` derives from the policy name). */
type PolicyUnset = "prefix" | "maxAgeDays";

/** The policy as its host kind receives it: the Args' fields, names resolved. */
export type ZfsSnapshotPolicySpec = PolicyFields & {
  /** Policy name (`policyName`, else the resource name), stored in each snapshot's `kvmshare:policy` property. */
  policy: string;
  /** Dataset to snapshot, `pool/path`. */
  dataset: string;
  [k: string]: unknown;
};

export const ZFS_SNAPSHOT_POLICY_DEFAULTS: Defaults<PolicyFields, PolicyUnset> = { intervalMinutes: 0, keep: 7, allowDestroy: false };

/** The snapshot name prefix: the declared one, else `kvmshare-<policy>`. */
export function policyPrefix(spec: Pick<ZfsSnapshotPolicySpec, "policy" | "prefix">): string {
  return spec.prefix ?? `kvmshare-${spec.policy}`;
}

export function resolveZfsSnapshotPolicy(name: string, args: ZfsSnapshotPolicyArgs): ZfsSnapshotPolicySpec {
  const { connection, dataset, policyName, ...fields } = args;
  const policy = policyName ?? name;
  return { policy, dataset: datasetNameOf(dataset), ...resolveDefaults<PolicyFields, PolicyUnset>(fields, ZFS_SNAPSHOT_POLICY_DEFAULTS), prefix: policyPrefix({ policy, prefix: fields.prefix }) };
}

/** @deprecated use resolveZfsSnapshotPolicy */
export const resolveZfsSnapshotPolicyArgs = resolveZfsSnapshotPolicy;

/** Every problem with a policy spec (pure; also the kind's `validate`). */
export function validateSnapshotPolicySpec(spec: ZfsSnapshotPolicySpec, prefix = ""): Problem[] {
  const c = new Checker("ZfsSnapshotPolicy");
  c.required(`${prefix}policy`, spec.policy).name(`${prefix}policy`, spec.policy);
  c.required(`${prefix}dataset`, spec.dataset);
  c.problems.push(...validateDatasetName(spec.dataset, `${prefix}dataset`));
  c.problems.push(...validateSnapshotPrefix(spec.prefix, `${prefix}prefix`));
  c.int(`${prefix}intervalMinutes`, spec.intervalMinutes, 0, 525_600, "0 = a snapshot on every up; 60 = hourly; 1440 = daily");
  c.int(`${prefix}keep`, spec.keep, 1, 100_000, "at least 1: the newest snapshot is always kept");
  if (spec.maxAgeDays !== undefined && (typeof spec.maxAgeDays !== "number" || !(spec.maxAgeDays > 0))) {
    c.add(`${prefix}maxAgeDays`, spec.maxAgeDays, "must be a number of days > 0 (fractions allowed)");
  }
  return c.problems;
}

/** Every problem with the arguments, thrown at once (pure; runs in the constructor and at preview). */
export function validateZfsSnapshotPolicy(name: string, args: ZfsSnapshotPolicyArgs): void {
  const problems = validateSnapshotPolicySpec(resolveZfsSnapshotPolicy(name, args)).map((p) => (p.field === "policy" ? { ...p, field: "policyName" } : p));
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsSnapshotPolicy ${name}`, problems);
}
