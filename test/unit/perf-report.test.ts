/** The report's three renderings: terminal table, JSON-safe figures, Prometheus textfile. */
import * as fs from "fs";
import * as path from "path";
import { resolveFioOptions } from "../../perf/fioJob";
import { parseFioJson } from "../../perf/fioParse";
import { formatTable, measuredFigures, PerfReport, promLabel, REPORT_FORMAT, toPrometheus } from "../../perf/report";
import { evaluate, resolveThresholds, Thresholds } from "../../perf/thresholds";

const fio = parseFioJson(fs.readFileSync(path.join(__dirname, "perf-fixtures", "fio-3.33-randrw.json"), "utf8"));

function report(t: Thresholds, cpu = { avgPercent: 71.25, peakPercent: 93.5 }, lossPercent: number | null = 0.5): PerfReport {
  const thresholds = resolveThresholds(t);
  const ping = lossPercent === null ? null : { target: "192.168.122.10", transmitted: 200, received: 200 - lossPercent * 2, lossPercent };
  const measured = measuredFigures(fio, thresholds.latencyPercentile, cpu, ping);
  const misses = evaluate({ iops: measured.iops, latencyMs: measured.latencyMs ?? undefined, cpuPercent: measured.cpuPercent, lossPercent: measured.lossPercent ?? undefined }, thresholds);
  return {
    format: REPORT_FORMAT,
    name: "guest1-nfs",
    host: "root@10.0.0.5:22",
    path: "/mnt/share",
    startedAt: "2026-11-25T09:00:00.000Z",
    finishedAt: "2026-11-25T09:00:12.000Z",
    fio: { version: fio.fioVersion, options: resolveFioOptions({ runtimeSec: 2, sizePerJob: "32M" }), runtimeMs: fio.runtimeMs },
    thresholds,
    measured,
    misses,
    passed: misses.length === 0,
  };
}

describe("measured figures", () => {
  it("are rounded, in ms and MiB/s, with the worst direction as the latency", () => {
    const m = report({ preset: "reference" }).measured;
    expect(m).toMatchObject({ iops: 13761.119, readIops: 9652.674, writeIops: 4108.446, latencyPercentile: 99, latencyMs: 29.491, readLatencyMs: 27.656, writeLatencyMs: 29.491 });
    expect(m.readBwMiBs).toBeCloseTo(37.7, 1);
    expect(m.percentilesMs.read).toEqual({ "50": 0.183, "95": 4.178, "99": 27.656 });
  });

  it("latency at a percentile fio did not report is null, and an unset latency limit is then not a miss", () => {
    const r = report({ latencyPercentile: 99.9, minIops: 1 });
    expect(r.measured.latencyMs).toBeNull();
    expect(r.misses).toEqual([]);
  });

  it("a read-only mix has no write latency, and the worst latency is the read one", () => {
    const doc = JSON.parse(fs.readFileSync(path.join(__dirname, "perf-fixtures", "fio-3.33-randrw.json"), "utf8"));
    doc.jobs[0].write = { iops: 0, bw: 0, bw_bytes: 0, io_bytes: 0, total_ios: 0, clat_ns: { mean: 0, percentile: { "99.000000": 0 } } };
    const ro = parseFioJson(JSON.stringify(doc));
    const m = measuredFigures(ro, 99, { avgPercent: 1, peakPercent: 1 }, null);
    expect(m).toMatchObject({ writeIops: 0, writeLatencyMs: null, writeLatencyMeanMs: null, latencyMs: 27.656, readLatencyMs: 27.656 });
    expect(m.percentilesMs.write).toEqual({});
  });

  it("JSON-serializes without loss (no NaN, no undefined figures)", () => {
    const r = report({ preset: "reference" });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe("table", () => {
  it("shows each figure against its threshold and names every miss", () => {
    expect(formatTable(report({ preset: "reference" }))).toMatchSnapshot();
  });

  it("says when no thresholds were set", () => {
    const t = formatTable(report({}, undefined, null));
    expect(t).toMatch(/packet loss\s+not measured/);
    expect(t).toMatch(/result: PASSED \(no thresholds set\)\n$/);
  });
});

describe("Prometheus textfile", () => {
  it("exports figures in base units next to their thresholds", () => {
    expect(toPrometheus(report({ preset: "reference" }))).toMatchSnapshot();
  });

  it("declares HELP and TYPE once per metric, before its samples", () => {
    const lines = toPrometheus(report({ preset: "reference" })).trim().split("\n");
    const seen = new Set<string>();
    let current = "";
    for (const l of lines) {
      const type = /^# TYPE (\S+) gauge$/.exec(l);
      if (type) {
        expect(seen.has(type[1])).toBe(false);
        seen.add(type[1]);
        current = type[1];
      } else if (!l.startsWith("# HELP ")) {
        expect(l).toMatch(/^[a-z_]+\{[^}]*\} (-?[\d.e+-]+|NaN)$/);
        expect(l.slice(0, l.indexOf("{"))).toBe(current);
      }
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  it("escapes label values", () => {
    expect(promLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const r = report({});
    r.path = '/mnt/we"ird\\path';
    expect(toPrometheus(r)).toContain('path="/mnt/we\\"ird\\\\path"');
  });

  it("writes the quantile label of p99.9 as 0.999", () => {
    const r = report({ latencyPercentile: 99.9 });
    r.measured.readLatencyMs = 40;
    expect(toPrometheus(r)).toMatch(/direction="read",quantile="0\.999"\} 0\.04$/m);
  });

  it("leaves out loss when it was not measured, and thresholds that are not set", () => {
    const text = toPrometheus(report({ minIops: 20000 }, undefined, null));
    expect(text).not.toMatch(/packet_loss/);
    expect(text).not.toMatch(/max_latency/);
    expect(text).toMatch(/^kvmshare_perf_threshold_missed\{.*threshold="minIops"\} 1$/m);
    expect(text).toMatch(/^kvmshare_perf_passed\{.*\} 0$/m);
  });
});
