/**
 * Run one performance check on a host (local or SSH): fio's random read/write mix in a scratch
 * directory under `path`, CPU sampled from /proc/stat while fio runs, packet loss to a peer
 * measured with ping at the same time (so under load), all compared with the thresholds.
 *
 * fio only ever touches its own files in a scratch directory kvmshare creates with `mktemp -d`
 * under `path` and removes afterwards; nothing else in the share is read or written.
 */
import * as crypto from "crypto";
import { Host } from "../core/connection";
import { Problem, ValidationError } from "../core/errors";
import { Checker, isUnknown } from "../core/validate";
import { CpuSampler, CpuUsage } from "./cpu";
import { buildFioArgs, FioOptions, resolveFioOptions, validateFioOptions } from "./fioJob";
import { parseFioJson } from "./fioParse";
import { buildPingArgs, LossOptions, parsePing, PingResult, pingDurationMs, validateLossOptions } from "./ping";
import { measuredFigures, PerfReport, REPORT_FORMAT, toPrometheus } from "./report";
import { evaluate, resolveThresholds, Thresholds, validateThresholds } from "./thresholds";

export interface PerfCheckOptions {
  /** Names the check in reports and metrics. */
  name: string;
  /** Directory to test: a mounted share, or the dataset's mountpoint on the host. */
  path: string;
  fio?: FioOptions;
  thresholds?: Thresholds;
  /** Measure packet loss to this peer while fio runs. */
  loss?: LossOptions;
  /** CPU sampling interval, ms. @default 1000 */
  cpuSampleMs?: number;
  /** Stored in the report to tell which inputs produced it. */
  runKey?: string;
  /** Progress messages. */
  log?: (message: string) => void;
}

/** Percentiles always reported, besides the one the latency limit uses. */
export const REPORTED_PERCENTILES = [50, 95, 99, 99.9];

const SCRATCH_PREFIX = ".kvmshare-perf.";

/** Every problem with the options, before anything runs (field, value, fix). */
export function validatePerfCheckOptions(o: PerfCheckOptions, prefix = ""): Problem[] {
  const c = new Checker("SharePerformanceCheck");
  c.required(`${prefix}path`, o.path).absPath(`${prefix}path`, o.path);
  c.required(`${prefix}name`, o.name);
  if (o.name !== undefined && !isUnknown(o.name) && (typeof o.name !== "string" || /[\0\n\r]/.test(o.name) || o.name.length > 200)) {
    c.add(`${prefix}name`, o.name, "must be a string of at most 200 characters without newlines");
  }
  c.int(`${prefix}cpuSampleMs`, o.cpuSampleMs, 100, 60_000, "e.g. 1000");
  return [
    ...c.problems,
    ...validateFioOptions(o.fio, `${prefix}fio.`),
    ...validateThresholds(o.thresholds, `${prefix}thresholds.`, o.loss !== undefined),
    ...validateLossOptions(o.loss, `${prefix}loss.`),
  ];
}

/**
 * Host checks that must pass before a run: fio (and ping) are installed and, unless
 * `checkPath` is false (preview, when a dataset or mount of the same update may create it),
 * the directory exists and is writable.
 */
export async function preflightPerfCheck(host: Host, o: PerfCheckOptions, prefix = "", opts: { checkPath?: boolean } = {}): Promise<Problem[]> {
  const problems: Problem[] = [];
  if (opts.checkPath !== false) problems.push(...(await checkDirectory(host, o.path, prefix)));
  const tools: [string, string[], boolean][] = [
    ["fio", ["fio", "--version"], true],
    ["ping", ["ping", "-V"], o.loss !== undefined],
  ];
  for (const [tool, argv, needed] of tools) {
    if (!needed) continue;
    const r = await host.run(argv, { check: false }).catch(() => ({ code: 127, stdout: "", stderr: "" }));
    if (r.code !== 0) {
      problems.push({
        field: tool === "fio" ? `${prefix}fio` : `${prefix}loss.target`,
        value: tool,
        message: `'${tool}' is not installed on ${host.label}: install it (Debian: apt-get install ${tool === "fio" ? "fio" : "iputils-ping"})`,
      });
    }
  }
  return problems;
}

async function checkDirectory(host: Host, path: string, prefix: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  const dir = await host.run(["sh", "-c", 'if [ ! -d "$1" ]; then echo missing; elif [ ! -w "$1" ]; then echo readonly; else echo ok; fi', "sh", path], { check: false });
  const state = dir.stdout.trim();
  if (state === "missing") problems.push({ field: `${prefix}path`, value: path, message: `is not a directory on ${host.label}: mount the share or create the dataset first` });
  else if (state === "readonly") problems.push({ field: `${prefix}path`, value: path, message: `is not writable on ${host.label}: the fio mix writes 30 % by default; check the mount options and permissions` });
  else if (state !== "ok") problems.push({ field: `${prefix}path`, value: path, message: `could not be checked on ${host.label}: ${dir.stderr.trim()}` });
  return problems;
}

/** Ping `loss.target` from `host` and parse the summary (no fio). */
export async function measureLoss(host: Host, loss: LossOptions): Promise<PingResult & { target: string }> {
  const problems = validateLossOptions(loss);
  if (problems.length) throw new ValidationError("loss", problems);
  const p = await host.run(buildPingArgs(loss), { check: false, timeoutMs: pingDurationMs(loss) + 10_000 });
  return { target: loss.target, ...parsePing(p.stdout, p.stderr) };
}

/** A short hash of the inputs that decide what is measured and judged. */
export function runKeyOf(parts: unknown): string {
  return crypto.createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

function fioFailure(host: Host, code: number, stdout: string, stderr: string, direct: boolean): Error {
  const text = (stderr + "\n" + stdout).trim();
  const tail = text.split("\n").filter((l) => l.trim()).slice(-6).join("\n");
  let hint = "";
  if (/(No space left|quota exceeded)/i.test(text)) hint = "\nhint: not enough free space: lower fio.sizePerJob or fio.jobs";
  else if (direct && /(O_DIRECT|Invalid argument)/i.test(text)) hint = "\nhint: this filesystem may not support O_DIRECT: set fio.direct to false";
  else if (/(libaio|io_uring).*(not|fail|load)/i.test(text)) hint = "\nhint: set fio.ioEngine to 'psync'";
  return new Error(`fio failed on ${host.label} (exit ${code}):\n${tail}${hint}`);
}

/** Run the check and return its report (misses included; this does not throw on a miss). */
export async function runPerfCheck(host: Host, o: PerfCheckOptions): Promise<PerfReport> {
  const problems = validatePerfCheckOptions(o);
  if (problems.length) throw new ValidationError(`SharePerformanceCheck '${o.name}'`, problems);
  const log = o.log ?? (() => undefined);
  const fioOpts = resolveFioOptions(o.fio);
  const thresholds = resolveThresholds(o.thresholds);
  const percentiles = [...new Set([...REPORTED_PERCENTILES, thresholds.latencyPercentile])];

  const startedAt = new Date().toISOString();
  const mk = await host.run(["mktemp", "-d", "-p", o.path, `${SCRATCH_PREFIX}XXXXXX`]);
  const scratch = mk.stdout.trim();
  if (!scratch.startsWith(o.path.replace(/\/$/, "") + "/" + SCRATCH_PREFIX)) {
    throw new Error(`mktemp on ${host.label} returned an unexpected path '${scratch}'`);
  }
  let fioRun: { stdout: string; stderr: string; code: number };
  let ping: (PingResult & { target: string }) | null = null;
  let cpu: CpuUsage;
  try {
    // Lay the files out first, so writing them is not part of what is measured.
    fioRun = await host.run(buildFioArgs(fioOpts, scratch, percentiles, true), { check: false, timeoutMs: 900_000 });
    if (fioRun.code !== 0) throw fioFailure(host, fioRun.code, fioRun.stdout, fioRun.stderr, fioOpts.direct);
    log(`fio ${fioOpts.readPercent}/${100 - fioOpts.readPercent} random mix for ${fioOpts.runtimeSec} s in ${o.path} on ${host.label}`);
    const sampler = await CpuSampler.start(host, o.cpuSampleMs ?? 1000);
    const fioTimeout = (fioOpts.runtimeSec + fioOpts.rampSec) * 1000 + 600_000;
    const fioPromise = host.run(buildFioArgs(fioOpts, scratch, percentiles), { check: false, timeoutMs: fioTimeout });
    const pingPromise = o.loss ? measureLoss(host, o.loss) : undefined;
    pingPromise?.catch(() => undefined); // awaited below; do not let an early failure go unhandled
    try {
      fioRun = await fioPromise;
    } finally {
      cpu = await sampler.stop();
    }
    if (pingPromise) ping = await pingPromise;
  } finally {
    // Only the scratch directory this run created (checked above) is removed.
    await host.run(["rm", "-rf", "--", scratch], { check: false });
  }
  if (fioRun.code !== 0) throw fioFailure(host, fioRun.code, fioRun.stdout, fioRun.stderr, fioOpts.direct);
  const fio = parseFioJson(fioRun.stdout);
  const measured = measuredFigures(fio, thresholds.latencyPercentile, cpu, ping);
  const misses = evaluate(
    {
      iops: measured.iops,
      latencyMs: measured.latencyMs ?? undefined,
      cpuPercent: measured.cpuPercent,
      lossPercent: measured.lossPercent ?? undefined,
    },
    thresholds,
  );
  const report: PerfReport = {
    format: REPORT_FORMAT,
    name: o.name,
    host: host.label,
    path: o.path,
    startedAt,
    finishedAt: new Date().toISOString(),
    fio: { version: fio.fioVersion, options: fioOpts, runtimeMs: fio.runtimeMs },
    thresholds,
    measured,
    misses,
    passed: misses.length === 0,
  };
  if (o.runKey) report.runKey = o.runKey;
  return report;
}

/** Where to write a report on the host. */
export interface ReportFiles {
  /** The JSON report. */
  jsonPath?: string;
  /** A Prometheus textfile-collector file; must end in `.prom`. */
  promPath?: string;
}

export function validateReportFiles(f: ReportFiles, prefix = ""): Problem[] {
  const c = new Checker("SharePerformanceCheck");
  c.absPath(`${prefix}reportPath`, f.jsonPath);
  c.absPath(`${prefix}prometheusPath`, f.promPath);
  if (typeof f.promPath === "string" && !isUnknown(f.promPath) && !f.promPath.endsWith(".prom")) {
    c.add(`${prefix}prometheusPath`, f.promPath, "must end in '.prom' (node_exporter's textfile collector reads only *.prom files)");
  }
  return c.problems;
}

/** Write the JSON report and/or the `.prom` file atomically on the host (creating parent directories). */
export async function writeReportFiles(host: Host, report: PerfReport, files: ReportFiles): Promise<void> {
  const writes: [string, string][] = [];
  if (files.jsonPath) writes.push([files.jsonPath, JSON.stringify(report, null, 2) + "\n"]);
  if (files.promPath) writes.push([files.promPath, toPrometheus(report)]);
  for (const [p, content] of writes) {
    await host.run(["mkdir", "-p", "--", p.replace(/\/[^/]*$/, "") || "/"]);
    await host.writeFileAtomic(p, content, { mode: "0644" });
  }
}
