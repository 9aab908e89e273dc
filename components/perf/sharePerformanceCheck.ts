import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { Problem, ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { FioOptions } from "../../perf/fioJob";
import { Miss, Thresholds } from "../../perf/thresholds";
import { CHECK_OUTPUTS, OnMiss, SharePerformanceCheckSpec, SharePerformanceCheckState, validateCheckSpec } from "./sharePerformanceCheckKind";

/** Where to measure packet loss while fio runs. */
export interface SharePerformanceLossArgs {
  /** Address or host name to ping from the host the check runs on (e.g. the NFS server or the guest). */
  target: pulumi.Input<string>;
  /** Echo requests. Loss resolution is 100/count %, so 1000 resolves the 0.1 % of the reference preset. @default 100 */
  count?: number;
  /** Gap between requests, ms (below 200 needs root). @default 200 */
  intervalMs?: number;
  /** Wait for the last reply, seconds. @default 2 */
  waitSec?: number;
}

export interface SharePerformanceCheckArgs {
  /** The host fio runs on: the KVM host (a dataset) or a guest (a mounted share). @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Directory to test: the mounted share in a guest, or the dataset's mountpoint on the host. */
  path: pulumi.Input<string>;
  /** fio job: 70 % random reads / 30 % writes, 4k blocks, iodepth 16, 1 job, 10 s, 256M file, libaio, O_DIRECT by default. */
  fio?: FioOptions;
  /**
   * Limits to check. `{ preset: "reference" }` is the brief's NFS >= 12,000 IOPS, SMB p99 <= 15 ms,
   * CPU <= 65 %, loss <= 0.1 %; explicit fields override the preset.
   * @default no limits: the check only measures and reports
   */
  thresholds?: Thresholds;
  /** Measure packet loss to a peer while fio runs. Required when a loss limit is set. @default not measured */
  loss?: SharePerformanceLossArgs;
  /** A missed threshold fails `pulumi up` ("fail") or is only reported as a warning ("warn"). @default "fail" */
  onMiss?: OnMiss;
  /** JSON report on the host; `pulumi refresh` reads it back. @default "/var/lib/kvmshare/perf/<name>.json" */
  reportPath?: string;
  /** Write a Prometheus textfile-collector file here too (must end in `.prom`). @default none */
  prometheusPath?: string;
  /**
   * Any value; the check runs again when it changes (it also runs again when any other input
   * changes, or the report disappears from the host). Use a dataset's or mount's output to
   * re-measure when the share changes, or `String(Date.now())` to measure on every `up`
   * (then `preview --expect-no-changes` always reports this check).
   * @default the check runs once
   */
  trigger?: pulumi.Input<string>;
  /** CPU sampling interval, ms. @default 1000 */
  cpuSampleMs?: number;
}

/** Defaults resolved once. */
export interface ResolvedSharePerformanceCheckArgs {
  onMiss: OnMiss;
  reportPath: string;
}

/** A file-name-safe form of a resource name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_") || "check";
}

export function resolveSharePerformanceCheckArgs(name: string, args: SharePerformanceCheckArgs): ResolvedSharePerformanceCheckArgs {
  return {
    onMiss: args.onMiss ?? "fail",
    reportPath: args.reportPath ?? `/var/lib/kvmshare/perf/${safeName(name)}.json`,
  };
}

function plain<T>(v: pulumi.Input<T> | undefined): T | undefined {
  return pulumi.Output.isInstance(v) || v instanceof Promise ? undefined : (v as T | undefined);
}

/** Every problem with the args, on the values known now (outputs are checked by the provider later). */
export function validateSharePerformanceCheck(name: string, args: SharePerformanceCheckArgs): Problem[] {
  const d = resolveSharePerformanceCheckArgs(name, args);
  const path = plain(args.path);
  const target = args.loss ? plain(args.loss.target) : undefined;
  const spec: SharePerformanceCheckSpec = {
    name,
    // An output path/target is not known yet: validate the rest with a stand-in.
    path: path === undefined ? "/unknown" : path,
    onMiss: d.onMiss,
    reportPath: d.reportPath,
  };
  if (args.fio !== undefined) spec.fio = args.fio;
  if (args.thresholds !== undefined) spec.thresholds = args.thresholds;
  if (args.loss !== undefined) spec.loss = { ...args.loss, target: target === undefined ? "unknown" : target };
  if (args.prometheusPath !== undefined) spec.prometheusPath = args.prometheusPath;
  const trigger = plain(args.trigger);
  if (trigger !== undefined) spec.trigger = trigger;
  if (args.cpuSampleMs !== undefined) spec.cpuSampleMs = args.cpuSampleMs;
  const problems = validateCheckSpec(spec);
  if (args.path === undefined) problems.unshift({ field: "path", value: undefined, message: "is required: the directory to test (a mounted share or a dataset's mountpoint)" });
  return problems;
}

/**
 * Measures a share with fio (70 % random reads / 30 % writes by default), samples the host's CPU
 * and the packet loss to a peer while it runs, and checks the figures against thresholds
 * (IOPS, latency at a percentile, CPU, loss). A miss fails `pulumi up` naming the threshold and
 * by how much, or only warns (`onMiss: "warn"`). Writes a JSON report and optionally a
 * Prometheus textfile on the host. Outputs the measured figures.
 */
export class SharePerformanceCheck extends pulumi.ComponentResource {
  /** True when every threshold was met at the last measurement. */
  declare public readonly passed: pulumi.Output<boolean>;
  /** Total IOPS (read + write) of the fio mix. */
  declare public readonly iops: pulumi.Output<number>;
  declare public readonly readIops: pulumi.Output<number>;
  declare public readonly writeIops: pulumi.Output<number>;
  /** Worst of read/write completion latency at `latencyPercentile`, ms. */
  declare public readonly latencyMs: pulumi.Output<number | null>;
  declare public readonly latencyPercentile: pulumi.Output<number>;
  /** read + write bandwidth, MiB/s. */
  declare public readonly bwMiBs: pulumi.Output<number>;
  /** Average CPU busy percent of all cores on the host during the run. */
  declare public readonly cpuPercent: pulumi.Output<number>;
  /** Packet loss to `loss.target`, percent (null when not measured). */
  declare public readonly lossPercent: pulumi.Output<number | null>;
  /** The thresholds missed, with limit, measured value and by how much. */
  declare public readonly misses: pulumi.Output<Miss[]>;
  /** When the figures were measured (ISO 8601). */
  declare public readonly measuredAt: pulumi.Output<string>;
  /** The JSON report on the host. */
  declare public readonly reportPath: pulumi.Output<string>;
  /** The host resource that runs the check. */
  declare public readonly run: HostResource<SharePerformanceCheckSpec, SharePerformanceCheckState>;

  constructor(name: string, args: SharePerformanceCheckArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:perf:SharePerformanceCheck", name, {}, opts);
    const problems = validateSharePerformanceCheck(name, args);
    if (problems.length) throw new ValidationError(`SharePerformanceCheck '${name}'`, problems);
    const d = resolveSharePerformanceCheckArgs(name, args);

    // A plain object whose path, ping target and trigger may be outputs: at preview only those
    // fields are unknown, so the provider's check still validates everything else.
    const spec: Record<string, unknown> = { name, path: args.path, onMiss: d.onMiss, reportPath: d.reportPath };
    if (args.fio !== undefined) spec.fio = args.fio;
    if (args.thresholds !== undefined) spec.thresholds = args.thresholds;
    if (args.loss !== undefined) spec.loss = { ...args.loss };
    if (args.prometheusPath !== undefined) spec.prometheusPath = args.prometheusPath;
    if (args.trigger !== undefined) spec.trigger = args.trigger;
    if (args.cpuSampleMs !== undefined) spec.cpuSampleMs = args.cpuSampleMs;

    const run = new HostResource<SharePerformanceCheckSpec, SharePerformanceCheckState>(
      "SharePerformanceCheck",
      require.resolve("./sharePerformanceCheckKind"),
      `${name}-run`,
      { connection: args.connection, spec: spec as pulumi.Input<SharePerformanceCheckSpec> },
      { parent: this, dependsOn: opts.dependsOn },
      [...CHECK_OUTPUTS],
    );
    const out = (k: (typeof CHECK_OUTPUTS)[number]) => (run as unknown as Record<string, pulumi.Output<unknown>>)[k];
    Object.assign(this, {
      run,
      passed: out("passed"),
      iops: out("iops"),
      readIops: out("readIops"),
      writeIops: out("writeIops"),
      latencyMs: out("latencyMs"),
      latencyPercentile: out("latencyPercentile"),
      bwMiBs: out("bwMiBs"),
      cpuPercent: out("cpuPercent"),
      lossPercent: out("lossPercent"),
      misses: out("misses"),
      measuredAt: out("measuredAt"),
      reportPath: pulumi.output(d.reportPath),
    });

    if (d.onMiss === "warn") {
      // The provider cannot raise engine warnings; the component does, from the outputs.
      pulumi.all([this.misses, this.measuredAt]).apply(([misses, at]) => {
        if (misses && misses.length) {
          pulumi.log.warn(`performance check '${name}' (measured ${at}) missed ${misses.length} threshold(s):\n${misses.map((m) => `  - ${m.message}`).join("\n")}`, this);
        }
      });
    }

    this.registerOutputs({
      passed: this.passed,
      iops: this.iops,
      readIops: this.readIops,
      writeIops: this.writeIops,
      latencyMs: this.latencyMs,
      latencyPercentile: this.latencyPercentile,
      bwMiBs: this.bwMiBs,
      cpuPercent: this.cpuPercent,
      lossPercent: this.lossPercent,
      misses: this.misses,
      measuredAt: this.measuredAt,
      reportPath: this.reportPath,
    });
  }
}
