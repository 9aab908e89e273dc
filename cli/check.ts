/**
 * `kvmshare check <path>`: the performance check from a shell or a cron job. Prints a table
 * (or the JSON report), optionally writes the JSON report and a Prometheus textfile, and exits
 * 0 when every threshold was met, 1 when one was missed (0 with --warn-only), 2 when the input
 * is invalid or the run failed.
 *
 * The CLI entry (cli/kvmshare.ts) calls `register(program)`.
 */
import { Command, Option } from "commander";
import * as path from "path";
import { LocalHost } from "../core/connection";
import { formatProblem, Problem } from "../core/errors";
import { FIO_DEFAULTS, FioOptions, IO_ENGINES, IoEngine } from "../perf/fioJob";
import { LOSS_DEFAULTS, LossOptions } from "../perf/ping";
import { formatTable } from "../perf/report";
import { preflightPerfCheck, runPerfCheck, validatePerfCheckOptions, validateReportFiles, writeReportFiles } from "../perf/run";
import { THRESHOLD_PRESETS, Thresholds } from "../perf/thresholds";
import { CliIo, processIo } from "./io";

/** Option field -> the flag that sets it, so messages name what the user typed. */
const FLAGS: Record<string, string> = {
  path: "<path>",
  name: "--name",
  "thresholds.preset": "--preset",
  "thresholds.minIops": "--min-iops",
  "thresholds.maxLatencyMs": "--max-latency-ms",
  "thresholds.latencyPercentile": "--latency-percentile",
  "thresholds.maxCpuPercent": "--max-cpu-percent",
  "thresholds.maxLossPercent": "--max-loss-percent",
  "loss.target": "--ping",
  "loss.count": "--ping-count",
  "loss.intervalMs": "--ping-interval-ms",
  "fio.readPercent": "--read-percent",
  "fio.blockSize": "--bs",
  "fio.ioDepth": "--iodepth",
  "fio.jobs": "--jobs",
  "fio.runtimeSec": "--runtime",
  "fio.rampSec": "--ramp",
  "fio.sizePerJob": "--size",
  "fio.ioEngine": "--ioengine",
  fio: "fio",
  reportPath: "--json",
  prometheusPath: "--prom",
};

function asFlag(p: Problem): Problem {
  const msg = p.message.replace(/set loss\.target/, "pass --ping <address>").replace(/set maxLossPercent: null to not check the preset's loss limit/, "pass --max-loss-percent off");
  return { ...p, field: FLAGS[p.field] ?? p.field, message: msg };
}

/** A number as typed; NaN for anything else, so validation names the flag and the value. */
function num(v: string): number {
  return v.trim() === "" ? Number.NaN : Number(v);
}

/** A threshold: a number, or `off` to not check a limit the preset sets (commander cannot carry null). */
function limit(v: string): number | "off" {
  return v.trim().toLowerCase() === "off" ? "off" : num(v);
}

function limitValue(v: number | "off"): number | null {
  return v === "off" ? null : v;
}

interface CheckFlags {
  name?: string;
  preset?: string;
  minIops?: number | "off";
  maxLatencyMs?: number | "off";
  latencyPercentile?: number;
  maxCpuPercent?: number | "off";
  maxLossPercent?: number | "off";
  ping?: string;
  pingCount?: number;
  pingIntervalMs?: number;
  readPercent?: number;
  bs?: string;
  iodepth?: number;
  jobs?: number;
  runtime?: number;
  ramp?: number;
  size?: string;
  ioengine?: string;
  direct: boolean;
  json?: string;
  prom?: string;
  warnOnly?: boolean;
}

/** Add `check` to a commander program. */
export function register(program: Command, io: CliIo = processIo): Command {
  program
    .command("check")
    .description("measure a share with fio (random 70/30 read/write), CPU use and packet loss, and check thresholds")
    .argument("<path>", "directory to test: a mounted share or a dataset's mountpoint (fio works in a scratch subdirectory it removes)")
    .option("--name <name>", "names the check in the report and metrics (default: the directory's name)")
    .addOption(new Option("--preset <name>", "start from a threshold preset; 'reference' = the brief's NFS >= 12000 IOPS, SMB p99 <= 15 ms, CPU <= 65 %, loss <= 0.1 %").choices(Object.keys(THRESHOLD_PRESETS)))
    .option("--min-iops <n>", "lowest acceptable total IOPS ('off': do not check the preset's)", limit)
    .option("--max-latency-ms <ms>", "highest acceptable completion latency at --latency-percentile ('off' as above)", limit)
    .option("--latency-percentile <p>", "percentile the latency limit applies to (default 99)", num)
    .option("--max-cpu-percent <pct>", "highest acceptable average CPU busy, percent of all cores ('off' as above)", limit)
    .option("--max-loss-percent <pct>", "highest acceptable packet loss to --ping, percent ('off' as above)", limit)
    .option("--ping <address>", "measure packet loss to this address while fio runs")
    .option("--ping-count <n>", `echo requests (default ${LOSS_DEFAULTS.count})`, num)
    .option("--ping-interval-ms <ms>", `gap between requests (default ${LOSS_DEFAULTS.intervalMs}; below 200 needs root)`, num)
    .option("--read-percent <pct>", `reads in the mix (default ${FIO_DEFAULTS.readPercent})`, num)
    .option("--bs <size>", `block size (default ${FIO_DEFAULTS.blockSize})`)
    .option("--iodepth <n>", `I/O depth per job (default ${FIO_DEFAULTS.ioDepth})`, num)
    .option("--jobs <n>", `parallel fio jobs (default ${FIO_DEFAULTS.jobs})`, num)
    .option("--runtime <sec>", `measured seconds (default ${FIO_DEFAULTS.runtimeSec})`, num)
    .option("--ramp <sec>", "warm-up seconds before measuring (default 0)", num)
    .option("--size <size>", `test file size per job (default ${FIO_DEFAULTS.sizePerJob})`)
    .option("--ioengine <engine>", `one of ${IO_ENGINES.join(", ")} (default ${FIO_DEFAULTS.ioEngine})`)
    .option("--no-direct", "use the page cache (for filesystems without O_DIRECT)")
    .option("--json <file>", "also write the JSON report to this file; '-' prints it instead of the table")
    .option("--prom <file>", "also write a Prometheus textfile-collector file (*.prom)")
    .option("--warn-only", "exit 0 even when a threshold is missed")
    .action(async (dir: string, flags: CheckFlags) => {
      io.exit(await runCheckCommand(dir, flags, io));
    });
  return program;
}

async function runCheckCommand(dir: string, f: CheckFlags, io: CliIo): Promise<number> {
  const abs = path.resolve(dir);
  const thresholds: Thresholds = {};
  if (f.preset !== undefined) thresholds.preset = f.preset;
  if (f.minIops !== undefined) thresholds.minIops = limitValue(f.minIops);
  if (f.maxLatencyMs !== undefined) thresholds.maxLatencyMs = limitValue(f.maxLatencyMs);
  if (f.latencyPercentile !== undefined) thresholds.latencyPercentile = f.latencyPercentile;
  if (f.maxCpuPercent !== undefined) thresholds.maxCpuPercent = limitValue(f.maxCpuPercent);
  if (f.maxLossPercent !== undefined) thresholds.maxLossPercent = limitValue(f.maxLossPercent);
  const fio: FioOptions = { direct: f.direct };
  if (f.readPercent !== undefined) fio.readPercent = f.readPercent;
  if (f.bs !== undefined) fio.blockSize = f.bs;
  if (f.iodepth !== undefined) fio.ioDepth = f.iodepth;
  if (f.jobs !== undefined) fio.jobs = f.jobs;
  if (f.runtime !== undefined) fio.runtimeSec = f.runtime;
  if (f.ramp !== undefined) fio.rampSec = f.ramp;
  if (f.size !== undefined) fio.sizePerJob = f.size;
  if (f.ioengine !== undefined) fio.ioEngine = f.ioengine as IoEngine;
  let loss: LossOptions | undefined;
  if (f.ping !== undefined) {
    loss = { target: f.ping };
    if (f.pingCount !== undefined) loss.count = f.pingCount;
    if (f.pingIntervalMs !== undefined) loss.intervalMs = f.pingIntervalMs;
  } else if (f.pingCount !== undefined || f.pingIntervalMs !== undefined) {
    loss = { target: "" }; // reported as "--ping: is required"
  }
  const options = { name: f.name ?? (path.basename(abs) || "root"), path: abs, fio, thresholds, ...(loss ? { loss } : {}) };
  const jsonFile = f.json && f.json !== "-" ? path.resolve(f.json) : undefined;
  const promFile = f.prom ? path.resolve(f.prom) : undefined;

  const host = new LocalHost();
  const problems = [...validatePerfCheckOptions(options), ...validateReportFiles({ jsonPath: jsonFile, promPath: promFile })];
  if (!problems.length) problems.push(...(await preflightPerfCheck(host, options)));
  if (problems.length) {
    io.stderr(`kvmshare check: ${problems.length} invalid input${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${formatProblem(asFlag(p))}`).join("\n")}\n`);
    return 2;
  }
  try {
    const report = await runPerfCheck(host, { ...options, log: (m) => io.stderr(`${m}\n`) });
    await writeReportFiles(host, report, { jsonPath: jsonFile, promPath: promFile });
    io.stdout(f.json === "-" ? JSON.stringify(report, null, 2) + "\n" : formatTable(report));
    if (report.passed) return 0;
    if (f.warnOnly) {
      io.stderr(`kvmshare check: ${report.misses.length} threshold(s) missed (--warn-only: exit 0)\n`);
      return 0;
    }
    return 1;
  } catch (e) {
    io.stderr(`kvmshare check: ${(e as Error).message}\n`);
    return 2;
  }
}
