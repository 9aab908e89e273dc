/**
 * The result of a performance check, and its three renderings: a table for a terminal, JSON
 * for files and Pulumi outputs, and a Prometheus textfile-collector file (`*.prom`).
 */
import { ResolvedFioOptions } from "./fioJob";
import { FioResult, latencyAt, percentileKey } from "./fioParse";
import { PingResult } from "./ping";
import { Miss, MISS_UNITS, ResolvedThresholds } from "./thresholds";

/** Format marker of the JSON report; bump when its shape changes incompatibly. */
export const REPORT_FORMAT = "kvmshare-perf-check/1";

/** What one check measured. Latencies in ms, bandwidth in MiB/s, percents 0-100. */
export interface MeasuredFigures {
  /** read + write IOPS. */
  iops: number;
  readIops: number;
  writeIops: number;
  /** read + write bandwidth, MiB/s. */
  bwMiBs: number;
  readBwMiBs: number;
  writeBwMiBs: number;
  /** The percentile latency limits apply to. */
  latencyPercentile: number;
  /** Worst of read/write completion latency at `latencyPercentile`, ms (null: no I/O completed). */
  latencyMs: number | null;
  readLatencyMs: number | null;
  writeLatencyMs: number | null;
  readLatencyMeanMs: number | null;
  writeLatencyMeanMs: number | null;
  /** Completion latency percentiles fio reported, ms, by direction and percentile ("50", "99.9"). */
  percentilesMs: { read: Record<string, number>; write: Record<string, number> };
  /** Average CPU busy percent of all cores on the host during the fio run. */
  cpuPercent: number;
  /** Busiest sampling interval. */
  cpuPeakPercent: number;
  /** Packet loss to the ping target, percent (null: not measured). */
  lossPercent: number | null;
  ping: (PingResult & { target: string }) | null;
}

export interface PerfReport {
  format: typeof REPORT_FORMAT;
  /** The check's name (component name or CLI `--name`). */
  name: string;
  /** Where it ran (`local` or `user@host:port`). */
  host: string;
  /** The directory fio ran in. */
  path: string;
  startedAt: string;
  finishedAt: string;
  /** Identifies the inputs the check ran with (the component re-runs when it changes). */
  runKey?: string;
  fio: { version: string; options: ResolvedFioOptions; runtimeMs: number };
  thresholds: ResolvedThresholds;
  measured: MeasuredFigures;
  misses: Miss[];
  passed: boolean;
}

const MiB = 1024 * 1024;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

/** The figures of a fio run + CPU + ping, in report units. */
export function measuredFigures(
  fio: FioResult,
  latencyPercentile: number,
  cpu: { avgPercent: number; peakPercent: number },
  ping: (PingResult & { target: string }) | null,
): MeasuredFigures {
  const key = percentileKey(latencyPercentile);
  const at = (d: FioResult["read"]) => (d.totalIos > 0 && d.clatPercentilesMs[key] !== undefined ? r3(d.clatPercentilesMs[key]) : null);
  const lat = latencyAt(fio, latencyPercentile);
  const pct = (d: FioResult["read"]) => Object.fromEntries(Object.entries(d.clatPercentilesMs).map(([k, v]) => [k, r3(v)]));
  return {
    iops: r3(fio.iops),
    readIops: r3(fio.read.iops),
    writeIops: r3(fio.write.iops),
    bwMiBs: r3(fio.bwBytesPerSec / MiB),
    readBwMiBs: r3(fio.read.bwBytesPerSec / MiB),
    writeBwMiBs: r3(fio.write.bwBytesPerSec / MiB),
    latencyPercentile,
    latencyMs: lat === undefined ? null : r3(lat),
    readLatencyMs: at(fio.read),
    writeLatencyMs: at(fio.write),
    readLatencyMeanMs: fio.read.clatMeanMs === undefined ? null : r3(fio.read.clatMeanMs),
    writeLatencyMeanMs: fio.write.clatMeanMs === undefined ? null : r3(fio.write.clatMeanMs),
    percentilesMs: { read: pct(fio.read), write: pct(fio.write) },
    cpuPercent: r3(cpu.avgPercent),
    cpuPeakPercent: r3(cpu.peakPercent),
    lossPercent: ping ? r3(ping.lossPercent) : null,
    ping,
  };
}

function n(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "-";
  return v.toLocaleString("en-US", { maximumFractionDigits: digits });
}

function verdict(report: PerfReport, threshold: Miss["threshold"]): string {
  const t = report.thresholds[threshold];
  if (t === undefined) return "";
  const m = report.misses.find((x) => x.threshold === threshold);
  if (!m) return "ok";
  if (m.by === null) return "MISSED (not measured)";
  const unit = MISS_UNITS[threshold].replace(" percentage points", " points");
  return `MISSED by ${n(m.by)}${unit}${m.byPercent !== undefined ? ` (${n(m.byPercent, 1)} %)` : ""}`;
}

/** A plain-text table for a terminal. */
export function formatTable(report: PerfReport): string {
  const m = report.measured;
  const t = report.thresholds;
  const o = report.fio.options;
  const p = `p${n(m.latencyPercentile, 3)}`;
  const rows: [string, string, string, string][] = [
    ["metric", "measured", "threshold", "result"],
    ["IOPS (read+write)", n(m.iops, 0), t.minIops !== undefined ? `>= ${n(t.minIops)}` : "", verdict(report, "minIops")],
    ["  read IOPS", n(m.readIops, 0), "", ""],
    ["  write IOPS", n(m.writeIops, 0), "", ""],
    [`${p} latency (worst)`, m.latencyMs === null ? "-" : `${n(m.latencyMs, 3)} ms`, t.maxLatencyMs !== undefined ? `<= ${n(t.maxLatencyMs)} ms` : "", verdict(report, "maxLatencyMs")],
    [`  read ${p} / mean`, `${n(m.readLatencyMs, 3)} / ${n(m.readLatencyMeanMs, 3)} ms`, "", ""],
    [`  write ${p} / mean`, `${n(m.writeLatencyMs, 3)} / ${n(m.writeLatencyMeanMs, 3)} ms`, "", ""],
    ["bandwidth (read+write)", `${n(m.bwMiBs, 1)} MiB/s`, "", ""],
    ["CPU avg / peak", `${n(m.cpuPercent, 1)} / ${n(m.cpuPeakPercent, 1)} %`, t.maxCpuPercent !== undefined ? `<= ${n(t.maxCpuPercent)} %` : "", verdict(report, "maxCpuPercent")],
    [
      m.ping ? `packet loss to ${m.ping.target}` : "packet loss",
      m.ping ? `${n(m.ping.lossPercent, 3)} % (${m.ping.received}/${m.ping.transmitted})` : "not measured",
      t.maxLossPercent !== undefined ? `<= ${n(t.maxLossPercent)} %` : "",
      verdict(report, "maxLossPercent"),
    ],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 3 ? c : c.padEnd(widths[i]))).join("  ").trimEnd());
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  const head =
    `kvmshare check '${report.name}' on ${report.host}: ${report.path}\n` +
    `fio ${report.fio.version}: random ${o.readPercent}/${100 - o.readPercent} read/write, bs ${o.blockSize}, iodepth ${o.ioDepth}, ` +
    `${o.jobs} job${o.jobs === 1 ? "" : "s"} x ${o.sizePerJob}, ${o.runtimeSec} s, ${o.ioEngine}${o.direct ? ", direct" : ""}` +
    (t.preset ? `; thresholds: preset '${t.preset}'` : "");
  const notes = m.ping?.note ? [`note: ping: ${m.ping.note}`] : [];
  const tail = report.passed
    ? `result: PASSED${report.misses.length === 0 && !hasAnyThreshold(t) ? " (no thresholds set)" : ""}`
    : `result: FAILED, ${report.misses.length} threshold${report.misses.length === 1 ? "" : "s"} missed:\n` + report.misses.map((x) => `  - ${x.message}`).join("\n");
  return [head, "", ...lines, "", ...notes, tail].join("\n") + "\n";
}

function hasAnyThreshold(t: ResolvedThresholds): boolean {
  return t.minIops !== undefined || t.maxLatencyMs !== undefined || t.maxCpuPercent !== undefined || t.maxLossPercent !== undefined;
}

/** Escape a Prometheus label value (backslash, double quote, newline). */
export function promLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function promNum(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return String(v);
}

/**
 * A node_exporter textfile-collector file. Base units (seconds, ratios 0-1) as Prometheus
 * naming asks; every threshold is exported next to its figure, so an alert rule can compare
 * the two (`kvmshare_perf_iops{direction="total"} < on(check) kvmshare_perf_threshold_min_iops`)
 * or just fire on `kvmshare_perf_threshold_missed == 1`.
 */
export function toPrometheus(report: PerfReport): string {
  const m = report.measured;
  const t = report.thresholds;
  const base = `check="${promLabel(report.name)}",host="${promLabel(report.host)}",path="${promLabel(report.path)}"`;
  const out: string[] = [];
  const metric = (name: string, help: string, samples: [string, number][]) => {
    if (!samples.length) return;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, v] of samples) out.push(`${name}{${base}${labels ? "," + labels : ""}} ${promNum(v)}`);
  };
  metric("kvmshare_perf_iops", "IOPS of the fio random read/write mix at the last kvmshare check.", [
    ['direction="read"', m.readIops],
    ['direction="write"', m.writeIops],
    ['direction="total"', m.iops],
  ]);
  metric("kvmshare_perf_bandwidth_bytes_per_second", "Bandwidth of the fio mix at the last check.", [
    ['direction="read"', Math.round(m.readBwMiBs * MiB)],
    ['direction="write"', Math.round(m.writeBwMiBs * MiB)],
  ]);
  const q = String(Number((m.latencyPercentile / 100).toPrecision(12))); // 99.9 -> "0.999", not 0.9990000000000001
  const lat: [string, number][] = [];
  if (m.readLatencyMs !== null) lat.push([`direction="read",quantile="${q}"`, m.readLatencyMs / 1000]);
  if (m.writeLatencyMs !== null) lat.push([`direction="write",quantile="${q}"`, m.writeLatencyMs / 1000]);
  metric("kvmshare_perf_completion_latency_seconds", "fio completion latency at the checked percentile.", lat);
  metric("kvmshare_perf_cpu_busy_ratio", "Average CPU busy share of all cores during the fio run (0-1).", [["", m.cpuPercent / 100]]);
  if (m.lossPercent !== null && m.ping) {
    metric("kvmshare_perf_packet_loss_ratio", "Packet loss to the ping target (0-1).", [[`target="${promLabel(m.ping.target)}"`, m.lossPercent / 100]]);
  }
  if (t.minIops !== undefined) metric("kvmshare_perf_threshold_min_iops", "Threshold: lowest acceptable total IOPS.", [["", t.minIops]]);
  if (t.maxLatencyMs !== undefined) {
    metric("kvmshare_perf_threshold_max_latency_seconds", "Threshold: highest acceptable completion latency at the quantile.", [[`quantile="${q}"`, t.maxLatencyMs / 1000]]);
  }
  if (t.maxCpuPercent !== undefined) metric("kvmshare_perf_threshold_max_cpu_busy_ratio", "Threshold: highest acceptable CPU busy share (0-1).", [["", t.maxCpuPercent / 100]]);
  if (t.maxLossPercent !== undefined) metric("kvmshare_perf_threshold_max_packet_loss_ratio", "Threshold: highest acceptable packet loss (0-1).", [["", t.maxLossPercent / 100]]);
  const set = (["minIops", "maxLatencyMs", "maxCpuPercent", "maxLossPercent"] as const).filter((k) => t[k] !== undefined);
  metric(
    "kvmshare_perf_threshold_missed",
    "1 when the last check missed this threshold, else 0.",
    set.map((k) => [`threshold="${k}"`, report.misses.some((x) => x.threshold === k) ? 1 : 0]),
  );
  metric("kvmshare_perf_passed", "1 when the last check met every threshold, else 0.", [["", report.passed ? 1 : 0]]);
  metric("kvmshare_perf_last_run_timestamp_seconds", "When the last check finished (Unix time).", [["", Math.round(Date.parse(report.finishedAt) / 1000)]]);
  return out.join("\n") + "\n";
}
