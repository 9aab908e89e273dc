/**
 * `SharePerformanceCheckArgs`: the one declaration of the component's fields, its defaults
 * table, `resolveSharePerformanceCheck()` and the pure validation. The spec the kind receives
 * is derived from the Args here, never re-declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import type { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker, isUnknown } from "../../core/validate";
import type { FioOptions } from "../../perf/fioJob";
import type { LossOptions } from "../../perf/ping";
import { PerfCheckOptions, validatePerfCheckOptions, validateReportFiles } from "../../perf/run";
import type { Thresholds } from "../../perf/thresholds";

export const ON_MISS = ["fail", "warn"] as const;
export type OnMiss = (typeof ON_MISS)[number];

/**
 * Where to measure packet loss while fio runs: the engine's `LossOptions` (count, intervalMs,
 * waitSec and their defaults are documented in perf/ping.ts), with a target that may be an output.
 */
export interface SharePerformanceLossArgs extends Omit<LossOptions, "target"> {
  /** Address or host name to ping from the host the check runs on (e.g. the NFS server or the guest). @fieldKind address */
  target: pulumi.Input<string>;
}

export interface SharePerformanceCheckArgs {
  /** The host fio runs on: the KVM host (a dataset) or a guest (a mounted share). @default unset: this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Directory to test: the mounted share in a guest, or the dataset's mountpoint on the host. @fieldKind path file */
  path: pulumi.Input<string>;
  /**
   * The fio job; each unset field takes its default (see `FioOptions`).
   * @default unset: 70 % random reads / 30 % writes, 4k blocks, iodepth 16, 1 job, 10 s, 256M file, libaio, O_DIRECT
   */
  fio?: FioOptions;
  /**
   * Limits to check. `{ preset: "reference" }` is the brief's NFS >= 12,000 IOPS, SMB p99 <= 15 ms,
   * CPU <= 65 %, loss <= 0.1 %; explicit fields override the preset.
   * @default unset: no limits, the check only measures and reports
   */
  thresholds?: Thresholds;
  /** Measure packet loss to a peer while fio runs. Required when a loss limit is set. @default unset: loss is not measured */
  loss?: SharePerformanceLossArgs;
  /** A missed threshold fails `pulumi up` ("fail") or is only reported as a warning ("warn"). @default "fail" */
  onMiss?: OnMiss;
  /** JSON report on the host; `pulumi refresh` reads it back. @default "/var/lib/kvmshare/perf/<name>.json" (the resource name, made file-name-safe) @fieldKind path file */
  reportPath?: string;
  /** Write a Prometheus textfile-collector file here too (must end in `.prom`). @default unset: no Prometheus file @fieldKind path file */
  prometheusPath?: string;
  /**
   * Any value; the check runs again when it changes (it also runs again when any other input
   * changes, or the report disappears from the host). Use a dataset's or mount's output to
   * re-measure when the share changes, or `String(Date.now())` to measure on every `up`
   * (then `preview --expect-no-changes` always reports this check).
   * @default unset: the check runs once
   * @fieldKind free opaque
   */
  trigger?: pulumi.Input<string>;
  /** CPU sampling interval, ms. @default 1000 */
  cpuSampleMs?: number;
}

/** Optional fields that stay unset when not given (the engine applies `cpuSampleMs`' and `fio`'s defaults). */
type Unset = "connection" | "fio" | "thresholds" | "loss" | "prometheusPath" | "trigger" | "cpuSampleMs";

/** The constant defaults; `reportPath`'s depends on the resource name (`defaultReportPath`). */
export const SHARE_PERFORMANCE_CHECK_DEFAULTS: Defaults<SharePerformanceCheckArgs, Unset | "reportPath"> = {
  onMiss: "fail",
};

/** The args with their defaults filled in. */
export type ResolvedSharePerformanceCheck = Resolved<SharePerformanceCheckArgs, Unset>;

/** The kind's spec as the component hands it over: `path`, `loss.target` and `trigger` may still be outputs. */
export type SharePerformanceCheckSpecInput = {
  /** Names the check in reports and metrics. */
  name: string;
} & Omit<ResolvedSharePerformanceCheck, "connection">;

/** The resolved inputs of one check, as the kind receives them (plain JSON). */
export type SharePerformanceCheckSpec = {
  /** Names the check in reports and metrics. */
  name: string;
  loss?: LossOptions;
} & Resolved<Plain<Omit<SharePerformanceCheckArgs, "connection" | "loss">>, Exclude<Unset, "connection" | "loss">>;

/** A file-name-safe form of a resource name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_") || "check";
}

/** Where the JSON report goes when `reportPath` is unset. */
export function defaultReportPath(name: string): string {
  return `/var/lib/kvmshare/perf/${safeName(name)}.json`;
}

export function resolveSharePerformanceCheck(name: string, args: SharePerformanceCheckArgs): ResolvedSharePerformanceCheck {
  const r = resolveDefaults<SharePerformanceCheckArgs, Unset | "reportPath">(args, SHARE_PERFORMANCE_CHECK_DEFAULTS);
  return { ...r, reportPath: r.reportPath ?? defaultReportPath(name) };
}

/** The spec handed to the kind: exactly the fields it reads, the unset ones left out. */
export function checkSpecOf(name: string, d: ResolvedSharePerformanceCheck): SharePerformanceCheckSpecInput {
  const spec: SharePerformanceCheckSpecInput = { name, path: d.path, onMiss: d.onMiss, reportPath: d.reportPath };
  if (d.fio !== undefined) spec.fio = d.fio;
  if (d.thresholds !== undefined) spec.thresholds = d.thresholds;
  if (d.loss !== undefined) spec.loss = { ...d.loss };
  if (d.prometheusPath !== undefined) spec.prometheusPath = d.prometheusPath;
  if (d.trigger !== undefined) spec.trigger = d.trigger;
  if (d.cpuSampleMs !== undefined) spec.cpuSampleMs = d.cpuSampleMs;
  return spec;
}

/** The engine's options for a spec. */
export function perfOptionsOf(spec: SharePerformanceCheckSpec): PerfCheckOptions {
  const o: PerfCheckOptions = { name: spec.name, path: spec.path };
  if (spec.fio !== undefined) o.fio = spec.fio;
  if (spec.thresholds !== undefined) o.thresholds = spec.thresholds;
  if (spec.loss !== undefined) o.loss = spec.loss;
  if (spec.cpuSampleMs !== undefined) o.cpuSampleMs = spec.cpuSampleMs;
  return o;
}

/** Every problem with a resolved spec (field, value, fix). */
export function validateCheckSpec(spec: SharePerformanceCheckSpec): Problem[] {
  if (isUnknown(spec)) return []; // the whole spec is not known yet (preview): checked again at update
  const c = new Checker("SharePerformanceCheck");
  c.required("onMiss", spec.onMiss).oneOf("onMiss", spec.onMiss, ON_MISS);
  c.required("reportPath", spec.reportPath);
  if (spec.trigger !== undefined && !isUnknown(spec.trigger) && typeof spec.trigger !== "string") {
    c.add("trigger", spec.trigger, "must be a string (e.g. String(Date.now()) or a dataset's guid)");
  }
  const files = validateReportFiles({ jsonPath: spec.reportPath, promPath: spec.prometheusPath });
  if (typeof spec.reportPath === "string" && spec.reportPath === spec.prometheusPath) {
    c.add("prometheusPath", spec.prometheusPath, "must differ from reportPath");
  }
  return [...validatePerfCheckOptions(perfOptionsOf(spec)), ...c.problems, ...files];
}

/** The value of an input known now, or undefined (an output or a promise). */
function known<T>(v: pulumi.Input<T> | undefined): T | undefined {
  return pulumi.Output.isInstance(v) || v instanceof Promise ? undefined : (v as T | undefined);
}

/** `v`, or `standIn` when it is not known yet. */
function orStandIn<T>(v: pulumi.Input<T> | undefined, standIn: T): T {
  const k = known(v);
  return k === undefined ? standIn : k;
}

/** Every problem with the args, on the values known now (outputs are checked by the provider later). */
export function validateSharePerformanceCheck(name: string, args: SharePerformanceCheckArgs): Problem[] {
  const { loss, trigger, ...rest } = checkSpecOf(name, resolveSharePerformanceCheck(name, args));
  // An output path/target is not known yet: validate the rest with a stand-in.
  const spec: SharePerformanceCheckSpec = { ...rest, path: orStandIn(rest.path, "/unknown") };
  if (loss !== undefined) spec.loss = { ...loss, target: orStandIn(loss.target, "unknown") };
  const t = known(trigger);
  if (t !== undefined) spec.trigger = t;
  const problems = validateCheckSpec(spec);
  if (args.path === undefined) problems.unshift({ field: "path", value: undefined, message: "is required: the directory to test (a mounted share or a dataset's mountpoint)" });
  return problems;
}

