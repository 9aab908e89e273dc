/** `kvmshare check` with real fio on a temp directory: table, exit codes, JSON and .prom files, flag errors. */
import { spawnSync } from "child_process";
import { Command } from "commander";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { register } from "../../cli/check";
import { requirePrograms } from "../requirePrograms";

const describe = requirePrograms(["fio", "ping"]);

jest.setTimeout(120_000);

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  let code = -1;
  const program = new Command("kvmshare").exitOverride().configureOutput({ writeErr: (t) => (stderr += t) });
  register(program, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), exit: (c) => (code = c) });
  await program.parseAsync(["node", "kvmshare", "check", ...args]);
  return { code, stdout, stderr };
}

describe("kvmshare check", () => {
  let dir: string;
  let share: string;
  const quick = ["--runtime", "2", "--size", "16M"];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-perfcli-"));
    share = path.join(dir, "share");
    fs.mkdirSync(share);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("prints the table and exits 0 when every threshold is met", async () => {
    const r = await check([share, ...quick, "--min-iops", "10", "--max-cpu-percent", "100", "--ping", "127.0.0.1", "--ping-count", "10", "--ping-interval-ms", "20", "--max-loss-percent", "0"]);
    expect(r.stderr).not.toMatch(/invalid|failed/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kvmshare check 'share' on local: /);
    expect(r.stdout).toMatch(/IOPS \(read\+write\)\s+[\d,]+\s+>= 10\s+ok/);
    expect(r.stdout).toMatch(/packet loss to 127\.0\.0\.1\s+0 % \(10\/10\)/);
    expect(r.stdout).toMatch(/result: PASSED/);
    expect(fs.readdirSync(share)).toEqual([]);
  });

  it("exits 1 naming the missed threshold, and writes the JSON report and .prom file", async () => {
    const json = path.join(dir, "out", "report.json");
    const prom = path.join(dir, "out", "share.prom");
    const r = await check([share, ...quick, "--name", "nightly", "--min-iops", "999999999", "--json", json, "--prom", prom]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/MISSED by [\d,.]+ IOPS/);
    expect(r.stdout).toMatch(/- minIops: IOPS [\d,.]+ is [\d,.]+ IOPS .* below the minimum 999,999,999/);
    const report = JSON.parse(fs.readFileSync(json, "utf8"));
    expect(report).toMatchObject({ name: "nightly", passed: false, thresholds: { minIops: 999999999 } });
    expect(fs.readFileSync(prom, "utf8")).toMatch(/^kvmshare_perf_threshold_missed\{check="nightly",.*threshold="minIops"\} 1$/m);
  });

  it("--warn-only reports the miss and exits 0", async () => {
    const r = await check([share, ...quick, "--min-iops", "999999999", "--warn-only"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/1 threshold\(s\) missed \(--warn-only: exit 0\)/);
  });

  it("--json - prints the report as JSON, with the reference preset's thresholds", async () => {
    const r = await check([share, ...quick, "--preset", "reference", "--ping", "127.0.0.1", "--ping-count", "5", "--ping-interval-ms", "20", "--json", "-", "--warn-only"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.thresholds).toEqual({ preset: "reference", minIops: 12000, maxLatencyMs: 15, latencyPercentile: 99, maxCpuPercent: 65, maxLossPercent: 0.1 });
    expect(report.measured.iops).toBeGreaterThan(0);
  });

  it("passes the fio settings through: 2 jobs, 8k blocks, a 50/50 mix", async () => {
    const r = await check([share, "--runtime", "2", "--size", "8M", "--jobs", "2", "--bs", "8k", "--read-percent", "50", "--iodepth", "4", "--json", "-"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.fio.options).toMatchObject({ jobs: 2, blockSize: "8k", readPercent: 50, ioDepth: 4 });
    const { readIops, writeIops, bwMiBs, iops } = report.measured;
    expect(readIops / writeIops).toBeGreaterThan(0.75);
    expect(readIops / writeIops).toBeLessThan(1.33);
    expect(Math.abs(bwMiBs - (iops * 8) / 1024) / bwMiBs).toBeLessThan(0.02); // 8 KiB per I/O
    expect(fs.readdirSync(share)).toEqual([]);
  });

  it("bad flags exit 2 naming each flag, its value and the fix, before fio runs", async () => {
    const r = await check([share, "--min-iops", "-5", "--max-cpu-percent", "150", "--bs", "4x", "--max-loss-percent", "0.1", "--prom", path.join(dir, "x.txt")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--min-iops: must be a positive number of IOPS, e.g. 12000 \(got -5\)/);
    expect(r.stderr).toMatch(/--max-cpu-percent: must be a percent above 0 and at most 100.*\(got 150\)/);
    expect(r.stderr).toMatch(/--bs: must be a size string like '4k'.*\(got '4x'\)/);
    expect(r.stderr).toMatch(/--prom: must end in '.prom'/);
    expect(r.stdout).toBe("");
  });

  it("a loss limit without --ping says to pass one, or to switch the preset's off", async () => {
    const r = await check([share, "--max-loss-percent", "0.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-loss-percent: needs a ping target to measure loss against: pass --ping <address>/);
    const viaPreset = await check([share, "--preset", "reference"]);
    expect(viaPreset.code).toBe(2);
    expect(viaPreset.stderr).toMatch(/--max-loss-percent: .* or pass --max-loss-percent off \(got 0.1\)/);
  });

  it("--max-loss-percent off checks the rest of the preset without a ping target", async () => {
    const r = await check([share, ...quick, "--preset", "reference", "--max-loss-percent", "off", "--max-cpu-percent", "off", "--json", "-", "--warn-only"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).thresholds).toEqual({ preset: "reference", minIops: 12000, maxLatencyMs: 15, latencyPercentile: 99 });
  });

  it("a directory that does not exist exits 2 with the fix", async () => {
    const r = await check([path.join(dir, "nope"), ...quick]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/<path>: is not a directory on local: mount the share or create the dataset first/);
  });

  it("the kvmshare entry runs check with the same exit codes (1 on a miss, 0 when met, 2 on bad input)", () => {
    const bin = path.join(__dirname, "..", "..", "cli", "kvmshare.ts");
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", bin, "check", share, "--runtime", "1", "--size", "8M", ...args], {
        encoding: "utf8",
        cwd: path.join(__dirname, "..", ".."),
        timeout: 60_000,
      });
    const miss = run("--min-iops", "999999999");
    expect(miss.stdout).toMatch(/result: FAILED, 1 threshold missed/);
    expect(miss.status).toBe(1);
    expect(run("--min-iops", "1").status).toBe(0);
    const bad = run("--max-loss-percent", "200");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--max-loss-percent: must be a percent from 0 to 100/);
  });

  it("an unknown preset is refused by the parser with the choices", async () => {
    await expect(check([share, "--preset", "fastest"])).rejects.toThrow(/Allowed choices are reference, reference-nfs, reference-smb/);
  });
});
