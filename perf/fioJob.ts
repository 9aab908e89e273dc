/**
 * The fio job kvmshare runs: a random read/write mix (70 % reads by default) with small,
 * tunable defaults. Pure: builds the argv, validates the options.
 */
import { Problem } from "../core/errors";
import { isUnknown, parseSize } from "../core/validate";

export const IO_ENGINES = ["libaio", "io_uring", "psync", "posixaio", "sync"] as const;
export type IoEngine = (typeof IO_ENGINES)[number];

/** How fio loads the share. */
export interface FioOptions {
  /** Share of reads in the random mix, percent. @default 70 (70 % reads / 30 % writes) */
  readPercent?: number;
  /** I/O size (a multiple of 512 bytes). @default "4k" @fieldKind free */
  blockSize?: string;
  /** Outstanding I/Os per job (fio `iodepth`). @default 16 */
  ioDepth?: number;
  /** Parallel fio jobs (fio `numjobs`), each on its own file. @default 1 */
  jobs?: number;
  /** Measured run time, seconds. @default 10 */
  runtimeSec?: number;
  /** Warm-up before measuring, seconds (fio `ramp_time`). @default 0 */
  rampSec?: number;
  /** Size of each job's test file, e.g. "256M". @default "256M" @fieldKind free */
  sizePerJob?: string;
  /** fio I/O engine: `libaio`, `io_uring`, `psync`, `posixaio` or `sync`. @default "libaio" */
  ioEngine?: IoEngine;
  /** Bypass the page cache (O_DIRECT). Set false on filesystems without O_DIRECT support. @default true */
  direct?: boolean;
}

export type ResolvedFioOptions = Required<FioOptions>;

export const FIO_DEFAULTS: Readonly<ResolvedFioOptions> = Object.freeze({
  readPercent: 70,
  blockSize: "4k",
  ioDepth: 16,
  jobs: 1,
  runtimeSec: 10,
  rampSec: 0,
  sizePerJob: "256M",
  ioEngine: "libaio",
  direct: true,
});

/** The fio job name; test files are `<name>.<job>.0` inside kvmshare's own scratch directory. */
export const FIO_JOB_NAME = "kvmshare-perf";

export function resolveFioOptions(o: FioOptions | undefined): ResolvedFioOptions {
  const out: Record<string, unknown> = { ...FIO_DEFAULTS };
  for (const [k, v] of Object.entries(o ?? {})) if (v !== undefined) out[k] = v;
  return out as unknown as ResolvedFioOptions;
}

/** Every problem with fio options (field, value, fix). */
export function validateFioOptions(o: FioOptions | undefined, prefix = "fio."): Problem[] {
  const problems: Problem[] = [];
  if (o === undefined || isUnknown(o)) return problems;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    return [{ field: prefix.replace(/\.$/, ""), value: o, message: "must be an object such as { runtimeSec: 10, blockSize: '4k' }" }];
  }
  const known = Object.keys(FIO_DEFAULTS);
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) problems.push({ field: `${prefix}${k}`, value: (o as Record<string, unknown>)[k], message: `is not a fio option kvmshare sets; use one of ${known.join(", ")}` });
  }
  const int = (f: keyof FioOptions, min: number, max: number, eg: string) => {
    const v = o[f];
    if (v === undefined || isUnknown(v)) return;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      problems.push({ field: `${prefix}${f}`, value: v, message: `must be an integer from ${min} to ${max}, e.g. ${eg}` });
    }
  };
  int("readPercent", 0, 100, "70");
  int("ioDepth", 1, 4096, "16");
  int("jobs", 1, 256, "4");
  int("runtimeSec", 1, 86400, "10");
  int("rampSec", 0, 3600, "2");
  const size = (f: "blockSize" | "sizePerJob", min: number, eg: string) => {
    const v = o[f];
    if (v === undefined || isUnknown(v)) return;
    const n = typeof v === "string" ? parseSize(v) : undefined;
    if (n === undefined || n < min || (f === "blockSize" && n % 512 !== 0)) {
      problems.push({
        field: `${prefix}${f}`,
        value: v,
        message: `must be a size string like ${eg}${f === "blockSize" ? " (a multiple of 512 bytes)" : ""}, at least ${min} bytes`,
      });
    }
  };
  size("blockSize", 512, "'4k' or '1M'");
  size("sizePerJob", 1024 * 1024, "'256M' or '1G'");
  if (o.ioEngine !== undefined && !isUnknown(o.ioEngine) && !IO_ENGINES.includes(o.ioEngine as IoEngine)) {
    problems.push({ field: `${prefix}ioEngine`, value: o.ioEngine, message: `must be one of ${IO_ENGINES.join(", ")}` });
  }
  if (o.direct !== undefined && !isUnknown(o.direct) && typeof o.direct !== "boolean") {
    problems.push({ field: `${prefix}direct`, value: o.direct, message: "must be true or false" });
  }
  const bs = typeof o.blockSize === "string" ? parseSize(o.blockSize) : undefined;
  const sz = typeof o.sizePerJob === "string" ? parseSize(o.sizePerJob) : parseSize(FIO_DEFAULTS.sizePerJob);
  if (bs !== undefined && sz !== undefined && bs > sz) {
    problems.push({ field: `${prefix}blockSize`, value: o.blockSize, message: `must not exceed sizePerJob (${o.sizePerJob ?? FIO_DEFAULTS.sizePerJob})` });
  }
  return problems;
}

/** fio separates several file names with ':'; a literal one in a path must be escaped. */
export function fioPath(p: string): string {
  return p.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
}

/** fio's normalized size argument in bytes (avoids fio's own k=1000/1024 ambiguity). */
function bytes(v: string): string {
  return String(parseSize(v));
}

/**
 * The fio argv for one run in `directory` (a scratch directory kvmshare created), reporting
 * completion-latency percentiles `percentiles` (e.g. [50, 95, 99]) as JSON on stdout. With
 * `layoutOnly`, fio only lays out the test files (`create_only`): run that first, so writing
 * the files is not part of what is measured (IOPS, CPU).
 */
export function buildFioArgs(opts: FioOptions | undefined, directory: string, percentiles: number[], layoutOnly = false): string[] {
  const o = resolveFioOptions(opts);
  const pct = [...new Set(percentiles)].sort((a, b) => a - b);
  return [
    "fio",
    `--name=${FIO_JOB_NAME}`,
    `--directory=${fioPath(directory)}`,
    "--rw=randrw",
    `--rwmixread=${o.readPercent}`,
    `--bs=${bytes(o.blockSize)}`,
    `--iodepth=${o.ioDepth}`,
    `--numjobs=${o.jobs}`,
    `--size=${bytes(o.sizePerJob)}`,
    `--runtime=${o.runtimeSec}`,
    ...(o.rampSec > 0 ? [`--ramp_time=${o.rampSec}`] : []),
    "--time_based",
    `--ioengine=${o.ioEngine}`,
    `--direct=${o.direct ? 1 : 0}`,
    "--group_reporting",
    `--percentile_list=${pct.map((p) => String(p)).join(":")}`,
    ...(layoutOnly ? ["--create_only=1"] : []),
    "--eta=never",
    "--output-format=json",
  ];
}
