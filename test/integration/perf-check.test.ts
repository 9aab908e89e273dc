/**
 * SharePerformanceCheck through the in-process engine, with real fio on a temp directory:
 * figures measured and output, the report and .prom files written on the host, an impossible
 * threshold failing `up` with the numbers, warn-only mode, re-runs on trigger, refresh without
 * re-measuring, drift when the report disappears, and clean-up.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SharePerformanceCheck, SharePerformanceCheckArgs } from "../../components/perf";
import { LocalHost, RunOptions, RunResult } from "../../core/connection";
import { preflightPerfCheck } from "../../perf";
import { Engine } from "../harness/engine";
import { requirePrograms } from "../requirePrograms";

const describe = requirePrograms(["fio", "ping"]);

jest.setTimeout(120_000);

describe("SharePerformanceCheck on a temp directory (real fio)", () => {
  let dir: string;
  let share: string;
  let engine: Engine;
  let reportPath: string;
  let promPath: string;
  const fio = { runtimeSec: 2, sizePerJob: "16M" };

  const program = (extra: Partial<SharePerformanceCheckArgs> = {}) => () => {
    new SharePerformanceCheck("tmpcheck", {
      path: share,
      fio,
      // Generous limits this machine meets; loss on loopback.
      thresholds: { minIops: 10, maxLatencyMs: 10_000, maxCpuPercent: 100, maxLossPercent: 0 },
      loss: { target: "127.0.0.1", count: 20, intervalMs: 20, waitSec: 1 },
      reportPath,
      prometheusPath: promPath,
      ...extra,
    });
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-perf-"));
    share = path.join(dir, "share");
    fs.mkdirSync(share);
    fs.writeFileSync(path.join(share, "user-data.txt"), "keep me\n");
    reportPath = path.join(dir, "reports", "tmpcheck.json");
    promPath = path.join(dir, "textfile", "kvmshare_tmpcheck.prom");
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  let firstMeasuredAt: string;

  it("measures IOPS, latency, CPU and loss, and outputs the figures", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => `${s.op} ${s.name}`)).toEqual(["create tmpcheck-run"]);
    const out = r.outputs["tmpcheck-run"];
    expect(out.passed).toBe(true);
    expect(out.misses).toEqual([]);
    expect(out.iops as number).toBeGreaterThan(10);
    expect(out.readIops as number).toBeGreaterThan(out.writeIops as number); // 70/30 mix
    expect(out.latencyMs as number).toBeGreaterThan(0);
    expect(out.latencyPercentile).toBe(99);
    expect(out.cpuPercent as number).toBeGreaterThan(0);
    expect(out.cpuPercent as number).toBeLessThanOrEqual(100);
    expect(out.lossPercent).toBe(0);
    firstMeasuredAt = out.measuredAt as string;
    const m = (out.observed as { measured: Record<string, unknown> }).measured;
    process.stdout.write(
      `perf temp dir (${share}): ${Math.round(out.iops as number)} IOPS (read ${Math.round(out.readIops as number)}, write ${Math.round(out.writeIops as number)}), ` +
        `p99 ${out.latencyMs} ms, ${m.bwMiBs} MiB/s, CPU ${out.cpuPercent} % (peak ${m.cpuPeakPercent}), loss ${out.lossPercent} %\n`,
    );
  });

  it("writes the JSON report and a Prometheus textfile on the host, and leaves the share as it was", () => {
    const report = JSON.parse(fs.readFileSync(reportPath, "utf8"));
    expect(report.format).toBe("kvmshare-perf-check/1");
    expect(report.fio.options).toMatchObject({ readPercent: 70, runtimeSec: 2, sizePerJob: "16M" });
    expect(report.fio.version).toMatch(/^fio-3/);
    expect(report.measured.percentilesMs.read).toHaveProperty("99");
    const prom = fs.readFileSync(promPath, "utf8");
    expect(prom).toMatch(/^# TYPE kvmshare_perf_iops gauge$/m);
    expect(prom).toMatch(new RegExp(`^kvmshare_perf_iops\\{check="tmpcheck",host="local",path="${share.replace(/[/.]/g, "\\$&")}",direction="total"\\} \\d`, "m"));
    expect(prom).toMatch(/^kvmshare_perf_passed\{.*\} 1$/m);
    expect(prom).toMatch(/^kvmshare_perf_threshold_missed\{.*threshold="minIops"\} 0$/m);
    // fio's files lived in a scratch directory that is gone; the user's file is untouched.
    expect(fs.readdirSync(share)).toEqual(["user-data.txt"]);
    expect(fs.readFileSync(path.join(share, "user-data.txt"), "utf8")).toBe("keep me\n");
  });

  it("a second up does not measure again", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
    expect(r.outputs["tmpcheck-run"].measuredAt).toBe(firstMeasuredAt);
  });

  it("refresh reads the report back without re-measuring", async () => {
    const r = await engine.refresh();
    expect(r.errors).toEqual([]);
    expect(r.outputs["tmpcheck-run"].measuredAt).toBe(firstMeasuredAt);
    const p = await engine.preview(program(), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.filter((s) => s.op !== "refresh")).toEqual([]);
  });

  it("a new trigger value measures again", async () => {
    const r = await engine.up(program({ trigger: "dataset-changed-1" }));
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.op)).toEqual(["update"]);
    expect(r.changes[0].diffs).toContain("spec.trigger");
    expect(r.outputs["tmpcheck-run"].measuredAt).not.toBe(firstMeasuredAt);
  });

  it("a report deleted on the host is drift, and the next up measures again", async () => {
    fs.rmSync(reportPath);
    const p = await engine.preview(program({ trigger: "dataset-changed-1" }), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("observed.report (absent on host)");
    const r = await engine.up(program({ trigger: "dataset-changed-1" }));
    expect(r.errors).toEqual([]);
    expect(fs.existsSync(reportPath)).toBe(true);
  });

  it("an impossibly high threshold fails up, naming it and the numbers", async () => {
    const r = await engine.up(program({ thresholds: { minIops: 1e9, maxLatencyMs: 0.000001, maxCpuPercent: 100, maxLossPercent: 0 } }));
    const err = r.errors.join("\n");
    expect(err).toMatch(/SharePerformanceCheck 'tmpcheck': 2 thresholds missed on local/);
    expect(err).toMatch(/minIops: IOPS [\d,.]+ is [\d,.]+ IOPS \(\d+(\.\d)? % of the limit\) below the minimum 1,000,000,000/);
    expect(err).toMatch(/maxLatencyMs: p99 latency [\d,.]+ ms is [\d,.]+ ms .* above the maximum 0 ms/);
    expect(err).toMatch(/set onMiss: "warn" to report without failing/);
    // The report still records the failed measurement, for the operator and for node_exporter.
    const report = JSON.parse(fs.readFileSync(reportPath, "utf8"));
    expect(report.passed).toBe(false);
    expect(report.misses.map((m: { threshold: string }) => m.threshold)).toEqual(["minIops", "maxLatencyMs"]);
    expect(report.misses[0].limit).toBe(1e9);
    expect(report.misses[0].measured).toBe(report.measured.iops);
    expect(report.misses[0].by).toBeCloseTo(1e9 - report.measured.iops, 3);
    expect(fs.readFileSync(promPath, "utf8")).toMatch(/^kvmshare_perf_threshold_missed\{.*threshold="minIops"\} 1$/m);
  });

  it("with onMiss: warn the same miss is reported as a warning and up succeeds", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const r = await engine.up(program({ onMiss: "warn", thresholds: { minIops: 1e9 } }));
    const warned = warn.mock.calls.map((c) => c.join(" ")).join("\n");
    warn.mockRestore();
    expect(r.errors).toEqual([]);
    expect(warned).toMatch(/performance check 'tmpcheck' .* missed 1 threshold\(s\):\n\s+- minIops: IOPS [\d,.]+ is [\d,.]+ IOPS/);
    const out = r.outputs["tmpcheck-run"];
    expect(out.passed).toBe(false);
    expect(out.misses).toEqual([expect.objectContaining({ threshold: "minIops", limit: 1e9, measured: out.iops })]);
  });

  it("invalid thresholds fail at preview with field, value and fix, before fio runs", async () => {
    const before = fs.readFileSync(reportPath, "utf8");
    const p = await engine.preview(() => {
      new SharePerformanceCheck("bad", { path: share, thresholds: { minIops: -5, maxCpuPercent: 150, preset: "fastest" }, reportPath: path.join(dir, "bad.json") });
    });
    const err = p.errors.join("\n");
    expect(err).toMatch(/thresholds.minIops: must be a positive number of IOPS, e.g. 12000 \(got -5\)/);
    expect(err).toMatch(/thresholds.maxCpuPercent: must be a percent above 0 and at most 100.* \(got 150\)/);
    expect(err).toMatch(/thresholds.preset: must be one of reference, reference-nfs, reference-smb \(got 'fastest'\)/);
    expect(fs.existsSync(path.join(dir, "bad.json"))).toBe(false);
    expect(fs.readFileSync(reportPath, "utf8")).toBe(before);
  });

  it("a missing directory is reported by up with the fix, not as a fio crash", async () => {
    const r = await engine.up(program({ path: path.join(dir, "not-mounted") }));
    expect(r.errors.join("\n")).toMatch(/path: is not a directory on local: mount the share or create the dataset first/);
  });

  it("a host without fio or ping is reported by the preflight, with the package to install", async () => {
    // This machine with a PATH where neither tool exists (the real programs are not touched).
    class NoToolsHost extends LocalHost {
      run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
        return argv[0] === "fio" || argv[0] === "ping" ? super.run(["env", `PATH=${dir}/no-bin`, ...argv], opts) : super.run(argv, opts);
      }
    }
    const problems = await preflightPerfCheck(new NoToolsHost(), { name: "x", path: share, loss: { target: "127.0.0.1" } });
    expect(problems).toEqual([
      { field: "fio", value: "fio", message: "'fio' is not installed on local: install it (Debian: apt-get install fio)" },
      { field: "loss.target", value: "ping", message: "'ping' is not installed on local: install it (Debian: apt-get install iputils-ping)" },
    ]);
    expect(await preflightPerfCheck(new LocalHost(), { name: "x", path: share, loss: { target: "127.0.0.1" } })).toEqual([]);
  });

  it("destroy removes the report and the .prom file (the share keeps its data)", async () => {
    await engine.up(program());
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(reportPath)).toBe(false);
    expect(fs.existsSync(promPath)).toBe(false);
    expect(fs.readdirSync(share)).toEqual(["user-data.txt"]);
  });
});
