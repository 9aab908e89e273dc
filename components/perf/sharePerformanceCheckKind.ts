/**
 * Kind: one share performance check on a host. `apply` runs the measurement (fio 70/30 mix,
 * CPU, packet loss), writes the JSON report (and optionally a `.prom` file) on the host, and
 * fails when a threshold is missed unless `onMiss` is "warn".
 *
 * The report file on the host is the observed state: `read`/refresh re-reads it and never
 * re-measures (a refresh must stay cheap and must not load a production share). The check
 * runs again when its inputs change (including `trigger`), or when the report is gone.
 */
import { HostKind, Json, State } from "../../core/hostKind";
import { resolveFioOptions } from "../../perf/fioJob";
import { PerfReport, REPORT_FORMAT } from "../../perf/report";
import { preflightPerfCheck, runKeyOf, runPerfCheck, writeReportFiles } from "../../perf/run";
import { resolveThresholds } from "../../perf/thresholds";
import { perfOptionsOf, SharePerformanceCheckSpec, validateCheckSpec } from "./sharePerformanceCheckArgs";

export type { OnMiss, SharePerformanceCheckSpec } from "./sharePerformanceCheckArgs";
export { ON_MISS, perfOptionsOf, validateCheckSpec } from "./sharePerformanceCheckArgs";

/** Observed state: the report as the host holds it. */
export type SharePerformanceCheckState = State & { runKey?: string };

/** The outputs a check adds besides `observed` (figures flattened for easy use). */
export const CHECK_OUTPUTS = [
  "passed",
  "iops",
  "readIops",
  "writeIops",
  "latencyMs",
  "latencyPercentile",
  "bwMiBs",
  "cpuPercent",
  "lossPercent",
  "misses",
  "measuredAt",
] as const;

/** What decides a measurement: a new key means the check runs again. */
export function checkRunKey(spec: SharePerformanceCheckSpec): string {
  return runKeyOf({
    name: spec.name,
    path: spec.path,
    fio: resolveFioOptions(spec.fio),
    thresholds: resolveThresholds(spec.thresholds),
    loss: spec.loss ?? null,
    trigger: spec.trigger ?? null,
  });
}

function missText(report: PerfReport): string {
  return report.misses.map((m) => `  - ${m.message}`).join("\n");
}

export const kind: HostKind<SharePerformanceCheckSpec, SharePerformanceCheckState> = {
  name: "SharePerformanceCheck",
  version: 1,
  validate: validateCheckSpec,
  // Tools only: the directory may be created by a dataset or mount in the same update.
  preflight: (host, spec) => preflightPerfCheck(host, perfOptionsOf(spec), "", { checkPath: false }),
  render: (spec) => ({ runKey: checkRunKey(spec) }),
  async probe(host, spec) {
    const text = await host.readFile(spec.reportPath);
    if (text === undefined) return undefined;
    try {
      const report = JSON.parse(text) as PerfReport;
      if (report.format !== REPORT_FORMAT || report.name !== spec.name) return undefined;
      return report as unknown as SharePerformanceCheckState;
    } catch {
      return undefined; // unreadable: measure again
    }
  },
  absentAs: "report (absent on host)",
  compare(desired, observed) {
    return desired.runKey === observed.runKey ? [] : ["runKey"];
  },
  async apply(host, { spec, desired, previous, log }) {
    const problems = await preflightPerfCheck(host, perfOptionsOf(spec), "", { checkPath: true });
    if (problems.length) {
      throw new Error(`SharePerformanceCheck '${spec.name}': ${host.label} cannot run this check:\n${problems.map((p) => `  - ${p.field}: ${p.message} (got '${String(p.value)}')`).join("\n")}`);
    }
    const report = await runPerfCheck(host, { ...perfOptionsOf(spec), runKey: desired.runKey, log });
    await writeReportFiles(host, report, { jsonPath: spec.reportPath, promPath: spec.prometheusPath });
    if (previous) {
      for (const old of [previous.spec.reportPath, previous.spec.prometheusPath]) {
        if (old && old !== spec.reportPath && old !== spec.prometheusPath) await host.removeFile(old);
      }
    }
    const m = report.measured;
    log(
      `'${spec.name}' on ${host.label}: ${Math.round(m.iops)} IOPS, p${m.latencyPercentile} ${m.latencyMs ?? "-"} ms, ` +
        `CPU ${m.cpuPercent.toFixed(1)} %, loss ${m.lossPercent ?? "-"} %: ${report.passed ? "passed" : `${report.misses.length} threshold(s) missed`}`,
    );
    if (!report.passed) {
      if (spec.onMiss === "fail") {
        throw new Error(
          `SharePerformanceCheck '${spec.name}': ${report.misses.length} threshold${report.misses.length === 1 ? "" : "s"} missed on ${host.label} (${spec.path}):\n` +
            `${missText(report)}\nreport: ${spec.reportPath}; set onMiss: "warn" to report without failing`,
        );
      }
      log(`'${spec.name}' missed thresholds (onMiss: warn):\n${missText(report)}`);
    }
  },
  async remove(host, spec, _observed, log) {
    for (const p of [spec.reportPath, spec.prometheusPath]) {
      if (p && (await host.removeFile(p))) log(`removed ${p} on ${host.label}`);
    }
  },
  outputs(spec, observed) {
    const r = observed as unknown as PerfReport | undefined;
    if (!r || !r.measured) return Object.fromEntries(CHECK_OUTPUTS.map((k) => [k, null]));
    const m = r.measured;
    return {
      passed: r.passed,
      iops: m.iops,
      readIops: m.readIops,
      writeIops: m.writeIops,
      latencyMs: m.latencyMs,
      latencyPercentile: m.latencyPercentile,
      bwMiBs: m.bwMiBs,
      cpuPercent: m.cpuPercent,
      lossPercent: m.lossPercent,
      misses: r.misses as unknown as Json,
      measuredAt: r.finishedAt,
    };
  },
  id: (spec) => `SharePerformanceCheck:${spec.reportPath}`,
};
