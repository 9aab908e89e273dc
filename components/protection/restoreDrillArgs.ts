/**
 * ZfsRestoreDrill's arguments (declared once, documented), their defaults, how they resolve into
 * the spec the host kind receives, and their pure validation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { Checker } from "../../core/validate";
import type { ZfsDataset } from "../storage";
import { datasetNameOf, validateDatasetName } from "../storage";
import { drillSelfReference, sameHost, sourceConnection } from "./relations";

export interface ZfsRestoreDrillArgs {
  /** The source host. @default the source dataset component's connection, else this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The dataset that is backed up: a `ZfsDataset` component or its full name. @fieldKind name */
  source: ZfsDataset | string;
  /** The backup dataset (a ZfsReplication's target). @fieldKind name */
  target: string;
  /** The target host. Stored as a secret: it may hold a key. @default this machine */
  targetConnection?: pulumi.Input<ConnectionSpec>;
  /** Name of the drill (its result file on the source host). @default the resource name @fieldKind name */
  drillName?: string;
  /** The snapshot to check (after '@'). @default unset: the newest one both sides share @fieldKind name */
  snapshot?: string;
  /** Any value; changing it runs the drill again (e.g. a date, a build number). @default unset: the drill runs on create only @fieldKind free opaque */
  trigger?: string;
  /** Fail the deploy when the drill finds a difference (the result is kept either way). @default true */
  failOnMismatch?: boolean;
  /** Directory on the source host where the last result is kept as `<drillName>.json`. @default "/var/lib/kvmshare/drill" @fieldKind path dir */
  stateDir?: string;
}

type DrillFields = Plain<Omit<ZfsRestoreDrillArgs, "connection" | "source" | "targetConnection" | "drillName">>;
type DrillUnset = "snapshot" | "trigger";

/** The drill as its host kind receives it. */
export type ZfsRestoreDrillSpec = DrillFields & {
  /** Drill name (`drillName`, else the resource name). */
  name: string;
  /** Source dataset (on the resource's connection). */
  source: string;
};

export const ZFS_RESTORE_DRILL_DEFAULTS: Defaults<DrillFields, DrillUnset> = { failOnMismatch: true, stateDir: "/var/lib/kvmshare/drill" };

export function resolveZfsRestoreDrill(name: string, args: ZfsRestoreDrillArgs): ZfsRestoreDrillSpec {
  const { connection, source, targetConnection, drillName, ...fields } = args;
  return { name: drillName ?? name, source: datasetNameOf(source), ...resolveDefaults<DrillFields, DrillUnset>(fields, ZFS_RESTORE_DRILL_DEFAULTS) };
}

export function validateRestoreDrillSpec(spec: ZfsRestoreDrillSpec): Problem[] {
  const c = new Checker("ZfsRestoreDrill");
  c.required("name", spec.name).name("name", spec.name);
  c.required("source", spec.source).required("target", spec.target);
  c.problems.push(...validateDatasetName(spec.source, "source"), ...validateDatasetName(spec.target, "target"));
  if (spec.snapshot !== undefined && (typeof spec.snapshot !== "string" || !/^[A-Za-z0-9_.:-]{1,200}$/.test(spec.snapshot))) {
    c.add("snapshot", spec.snapshot, "must be a snapshot name (the part after '@': letters, digits, '_', '.', ':', '-')");
  }
  if (spec.trigger !== undefined && typeof spec.trigger !== "string") c.add("trigger", spec.trigger, "must be a string (change it to run the drill again)");
  if (spec.failOnMismatch !== undefined && typeof spec.failOnMismatch !== "boolean") c.add("failOnMismatch", spec.failOnMismatch, "must be true or false");
  c.absPath("stateDir", spec.stateDir, "dir");
  return c.problems;
}

/** Every problem with the arguments, thrown at once (pure; runs in the constructor and at preview). */
export function validateZfsRestoreDrill(name: string, args: ZfsRestoreDrillArgs): void {
  const spec = resolveZfsRestoreDrill(name, args);
  const problems = validateRestoreDrillSpec(spec).map((p) => (p.field === "name" ? { ...p, field: "drillName" } : p));
  const source = sourceConnection(args.source, args.connection);
  const self = sameHost(source, args.targetConnection) ? drillSelfReference(spec.source, spec.target) : undefined;
  if (self) problems.push({ field: "target", value: spec.target, message: self });
  if (problems.length) throw new ValidationError(`kvmshare:storage:ZfsRestoreDrill ${name}`, problems);
}
