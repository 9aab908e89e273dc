import * as pulumi from "@pulumi/pulumi";
import { hostResourceClass, out, Outputs } from "../../core/component";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { HostComponent } from "../host";
import { Miss } from "../../perf/thresholds";
import {
  checkSpecOf,
  resolveSharePerformanceCheck,
  SharePerformanceCheckArgs,
  SharePerformanceCheckSpec,
  validateSharePerformanceCheck,
} from "./sharePerformanceCheckArgs";
import { CHECK_OUTPUTS, SharePerformanceCheckState } from "./sharePerformanceCheckKind";

/** The measured figures: the kind's outputs (`CHECK_OUTPUTS`, which this must name exactly), and the component's. */
const FIGURES = {
  /** True when every threshold was met at the last measurement. */
  passed: out<boolean>(),
  /** Total IOPS (read + write) of the fio mix. */
  iops: out<number>(),
  readIops: out<number>(),
  writeIops: out<number>(),
  /** Worst of read/write completion latency at `latencyPercentile`, ms. */
  latencyMs: out<number | null>(),
  latencyPercentile: out<number>(),
  /** read + write bandwidth, MiB/s. */
  bwMiBs: out<number>(),
  /** Average CPU busy percent of all cores on the host during the run. */
  cpuPercent: out<number>(),
  /** Packet loss to `loss.target`, percent (null when not measured). */
  lossPercent: out<number | null>(),
  /** The thresholds missed, with limit, measured value and by how much. */
  misses: out<Miss[]>(),
  /** When the figures were measured (ISO 8601). */
  measuredAt: out<string>(),
} satisfies Record<(typeof CHECK_OUTPUTS)[number], pulumi.Output<unknown>>;

const SharePerformanceCheckResource = hostResourceClass<SharePerformanceCheckSpec, SharePerformanceCheckState>()("SharePerformanceCheck", FIGURES);

/** The measured figures (`FIGURES`); `reportPath` is the component's own. */
export interface SharePerformanceCheck extends Outputs<typeof FIGURES> {}

/**
 * Measures a share with fio (70 % random reads / 30 % writes by default), samples the host's CPU
 * and the packet loss to a peer while it runs, and checks the figures against thresholds
 * (IOPS, latency at a percentile, CPU, loss). A miss fails `pulumi up` naming the threshold and
 * by how much, or only warns (`onMiss: "warn"`). Writes a JSON report and optionally a
 * Prometheus textfile on the host. Outputs the measured figures.
 */
export class SharePerformanceCheck extends HostComponent<SharePerformanceCheck> {
  /** The JSON report on the host. */
  declare public readonly reportPath: pulumi.Output<string>;
  /** The host resource that runs the check. */
  public readonly run: HostResource<SharePerformanceCheckSpec, SharePerformanceCheckState>;

  constructor(name: string, args: SharePerformanceCheckArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:perf:SharePerformanceCheck", name, opts);
    const problems = validateSharePerformanceCheck(name, args);
    if (problems.length) throw new ValidationError(`SharePerformanceCheck '${name}'`, problems);
    const d = resolveSharePerformanceCheck(name, args);
    // Path, ping target and trigger may be outputs: at preview only those fields are unknown,
    // so the provider's check still validates everything else.
    const spec = checkSpecOf(name, d);

    const { resource: run } = this.hostResource(
      SharePerformanceCheckResource,
      "run",
      { connection: args.connection, spec: spec as pulumi.Input<SharePerformanceCheckSpec> },
      { dependsOn: opts.dependsOn },
    );
    this.run = run;
    const { passed, iops, readIops, writeIops, latencyMs, latencyPercentile, bwMiBs, cpuPercent, lossPercent, misses, measuredAt } = run;
    this.publish({ passed, iops, readIops, writeIops, latencyMs, latencyPercentile, bwMiBs, cpuPercent, lossPercent, misses, measuredAt, reportPath: pulumi.output(d.reportPath) });

    if (d.onMiss === "warn") {
      // The provider cannot raise engine warnings; the component does, from the outputs.
      pulumi.all([this.misses, this.measuredAt]).apply(([misses, at]) => {
        if (misses && misses.length) {
          pulumi.log.warn(`performance check '${name}' (measured ${at}) missed ${misses.length} threshold(s):\n${misses.map((m) => `  - ${m.message}`).join("\n")}`, this);
        }
      });
    }
  }
}
