import * as pulumi from "@pulumi/pulumi";
import { OutputsOf } from "../../core/component";
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

/**
 * Measures a share with fio (70 % random reads / 30 % writes by default), samples the host's CPU
 * and the packet loss to a peer while it runs, and checks the figures against thresholds
 * (IOPS, latency at a percentile, CPU, loss). A miss fails `pulumi up` naming the threshold and
 * by how much, or only warns (`onMiss: "warn"`). Writes a JSON report and optionally a
 * Prometheus textfile on the host. Outputs the measured figures.
 */
export class SharePerformanceCheck extends HostComponent<SharePerformanceCheck> {
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
  public readonly run: HostResource<SharePerformanceCheckSpec, SharePerformanceCheckState>;

  constructor(name: string, args: SharePerformanceCheckArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:perf:SharePerformanceCheck", name, opts);
    const problems = validateSharePerformanceCheck(name, args);
    if (problems.length) throw new ValidationError(`SharePerformanceCheck '${name}'`, problems);
    const d = resolveSharePerformanceCheck(name, args);
    // Path, ping target and trigger may be outputs: at preview only those fields are unknown,
    // so the provider's check still validates everything else.
    const spec = checkSpecOf(name, d);

    const { resource: run } = this.hostResource<SharePerformanceCheckSpec, SharePerformanceCheckState>(
      "SharePerformanceCheck",
      "run",
      { connection: args.connection, spec: spec as pulumi.Input<SharePerformanceCheckSpec> },
      { dependsOn: opts.dependsOn },
      [...CHECK_OUTPUTS],
    );
    this.run = run;
    // The figures are the kind's outputs (CHECK_OUTPUTS), under the same names.
    const figures = Object.fromEntries(CHECK_OUTPUTS.map((k) => [k, (run as unknown as Record<string, pulumi.Output<unknown>>)[k]]));
    this.publish({ ...(figures as Omit<OutputsOf<SharePerformanceCheck>, "reportPath">), reportPath: pulumi.output(d.reportPath) });

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
