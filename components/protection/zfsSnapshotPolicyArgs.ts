/**
 * ZfsSnapshotPolicy's arguments (declared once, documented), their defaults, how they resolve
 * into the spec the host kind receives, and their pure validation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { Activation, ACTIVATIONS } from "../../core/systemdUnits";
import { Checker, LINE_BREAKING } from "../../core/validate";
import { checkBound, PROTECTION_BOUNDS } from "./backupWindow";
import type { ZfsDataset } from "../storage";
import { datasetNameOf, validateDatasetName, validateSnapshotPrefix } from "../storage";

export interface ZfsSnapshotPolicyArgs {
  /** The host. @default the dataset component's connection, else this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The dataset: a `ZfsDataset` component (dependency and connection follow) or its full name. @fieldKind name */
  dataset: ZfsDataset | string;
  /** Policy name, stored in each snapshot's `kvmshare:policy` user property. @default the resource name @fieldKind name */
  policyName?: string;
  /** Snapshot name prefix: snapshots are `<prefix>-<UTC time>`, e.g. `kvmshare-hourly-20261125T091500Z`. @default `kvmshare-<policyName>` @fieldKind name */
  prefix?: string;
  /** Minutes between snapshots; 0 takes one on every `up`. @default 0: a snapshot on every up */
  intervalMinutes?: number;
  /** How many of the policy's newest snapshots to keep. @default 7 */
  keep?: number;
  /** Also prune the policy's snapshots older than this many days (the newest is always kept). @default unset: no age limit */
  maxAgeDays?: number;
  /** Removing the policy destroys its own snapshots (sanoid: its `autosnap_*`). @default false: they stay */
  allowDestroy?: boolean;
  /**
   * Who takes the snapshots: "up" = kvmshare on each `pulumi up` (`intervalMinutes`, `keep`,
   * `maxAgeDays`); "sanoid" = sanoid on the host from a systemd timer kvmshare installs
   * (`kvmshare-sanoid-<policyName>.timer`; `hourly`, `daily`, `monthly`, `autosnap`, `autoprune`),
   * so snapshots go on between deploys.
   * @default "up"
   */
  scheduler?: "up" | "sanoid";
  /** sanoid: hourly snapshots kept. @default 24 */
  hourly?: number;
  /** sanoid: daily snapshots kept. @default 7 */
  daily?: number;
  /** sanoid: monthly snapshots kept. @default 0 */
  monthly?: number;
  /** sanoid: take snapshots (false on a replication target that only prunes). @default true */
  autosnap?: boolean;
  /** sanoid: prune its own expired `autosnap_*` snapshots (never others). @default true */
  autoprune?: boolean;
  /** sanoid: when the timer runs sanoid (systemd OnCalendar, checked with `systemd-analyze calendar`). @default "*:0/15" (every 15 minutes, like Debian's sanoid.timer) @fieldKind free */
  timerOnCalendar?: string;
  /** sanoid: alternate root every file goes under (images, sandboxes, tests; implies activation "enable" or "none"). @default "/" @fieldKind path dir */
  root?: string;
  /** sanoid: "start" = enable --now the timer; "enable" = enable only (offline, with `root`); "none" = files only. @default "start" */
  activation?: Activation;
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
};

export const ZFS_SNAPSHOT_POLICY_DEFAULTS: Defaults<PolicyFields, PolicyUnset> = {
  intervalMinutes: 0,
  keep: 7,
  allowDestroy: false,
  scheduler: "up",
  hourly: 24,
  daily: 7,
  monthly: 0,
  autosnap: true,
  autoprune: true,
  timerOnCalendar: "*:0/15",
  root: "/",
  activation: "start",
};

/** Fields that mean something only with `scheduler: "sanoid"`. */
const SANOID_ONLY = ["scheduler", "hourly", "daily", "monthly", "autosnap", "autoprune", "timerOnCalendar", "root", "activation"] as const;

/** The snapshot name prefix: the declared one, else `kvmshare-<policy>`. */
export function policyPrefix(spec: Pick<ZfsSnapshotPolicySpec, "policy" | "prefix">): string {
  return spec.prefix ?? `kvmshare-${spec.policy}`;
}

export function resolveZfsSnapshotPolicy(name: string, args: ZfsSnapshotPolicyArgs): ZfsSnapshotPolicySpec {
  const { connection, dataset, policyName, ...fields } = args;
  const policy = policyName ?? name;
  const spec: ZfsSnapshotPolicySpec = {
    policy,
    dataset: datasetNameOf(dataset),
    ...resolveDefaults<PolicyFields, PolicyUnset>(fields, ZFS_SNAPSHOT_POLICY_DEFAULTS),
    prefix: policyPrefix({ policy, prefix: fields.prefix }),
  };
  // An "up" policy's spec stays as it was before sanoid existed (no update of deployed stacks).
  if (spec.scheduler === "up") for (const k of SANOID_ONLY) delete spec[k];
  return spec;
}


/** Every problem with a policy spec (pure; also the kind's `validate`). */
export function validateSnapshotPolicySpec(spec: ZfsSnapshotPolicySpec, prefix = ""): Problem[] {
  const c = new Checker("ZfsSnapshotPolicy");
  c.required(`${prefix}policy`, spec.policy).name(`${prefix}policy`, spec.policy);
  c.required(`${prefix}dataset`, spec.dataset);
  c.problems.push(...validateDatasetName(spec.dataset, `${prefix}dataset`));
  c.problems.push(...validateSnapshotPrefix(spec.prefix, `${prefix}prefix`));
  checkBound(c, `${prefix}intervalMinutes`, "intervalMinutes", spec.intervalMinutes, 0, "0 = a snapshot on every up; 60 = hourly; 1440 = daily");
  checkBound(c, `${prefix}keep`, "keep", spec.keep, 1, "at least 1: the newest snapshot is always kept");
  const maxAge = PROTECTION_BOUNDS.maxAgeDays;
  if (spec.maxAgeDays !== undefined && (typeof spec.maxAgeDays !== "number" || !(spec.maxAgeDays > 0) || spec.maxAgeDays > maxAge.max)) {
    c.add(`${prefix}maxAgeDays`, spec.maxAgeDays, `must be a number of days > 0 and at most ${maxAge.max} (${maxAge.why}; fractions allowed)`);
  }
  c.oneOf(`${prefix}scheduler`, spec.scheduler, ["up", "sanoid"]);
  if (spec.scheduler === "sanoid") {
    for (const k of ["hourly", "daily", "monthly"] as const) checkBound(c, `${prefix}${k}`, k, spec[k], 0, `${k} snapshots sanoid keeps; 0 = none`);
    for (const k of ["autosnap", "autoprune"] as const) if (spec[k] !== undefined && typeof spec[k] !== "boolean") c.add(`${prefix}${k}`, spec[k], "must be true or false");
    if (spec.autosnap !== false && !spec.hourly && !spec.daily && !spec.monthly) {
      c.add(`${prefix}hourly`, spec.hourly, "hourly, daily and monthly are all 0: sanoid would take no snapshot; keep at least one (e.g. hourly: 24) or set autosnap: false");
    }
    if (typeof spec.timerOnCalendar !== "string" || !spec.timerOnCalendar.trim() || LINE_BREAKING.test(spec.timerOnCalendar) || spec.timerOnCalendar.length > 256) {
      c.add(`${prefix}timerOnCalendar`, spec.timerOnCalendar, "must be a systemd OnCalendar expression on one line, e.g. '*:0/15' or 'hourly'");
    }
    c.absPath(`${prefix}root`, spec.root, "dir");
    c.oneOf(`${prefix}activation`, spec.activation, ACTIVATIONS);
    if (spec.activation === "start" && spec.root && spec.root !== "/") {
      c.add(`${prefix}activation`, spec.activation, "cannot be 'start' with an alternate root (no systemd runs there): use 'enable' (offline, systemctl --root) or 'none'");
    }
  }
  return c.problems;
}

/** Every problem with the arguments, thrown at once (pure; runs in the constructor and at preview). */
export function validateZfsSnapshotPolicy(name: string, args: ZfsSnapshotPolicyArgs): void {
  const problems = validateSnapshotPolicySpec(resolveZfsSnapshotPolicy(name, args)).map((p) => (p.field === "policy" ? { ...p, field: "policyName" } : p));
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsSnapshotPolicy ${name}`, problems);
}
