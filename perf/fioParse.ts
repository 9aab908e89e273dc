/**
 * Parse fio's `--output-format=json` (fio 3.x: `clat_ns`; fio 2.x: `clat` in microseconds)
 * into the figures kvmshare reports. Latencies come out in milliseconds.
 */

/** One direction (read or write) of a fio run. */
export interface FioDirection {
  iops: number;
  /** Bandwidth, bytes per second. */
  bwBytesPerSec: number;
  ioBytes: number;
  totalIos: number;
  /** Mean completion latency, ms (undefined when no I/O completed). */
  clatMeanMs?: number;
  /** Completion latency percentiles, ms, keyed by percentile as fio lists it, normalized ("99", "99.9"). */
  clatPercentilesMs: Record<string, number>;
}

export interface FioResult {
  fioVersion: string;
  read: FioDirection;
  write: FioDirection;
  /** read + write IOPS. */
  iops: number;
  bwBytesPerSec: number;
  /** Job run time, ms. */
  runtimeMs: number;
  /** fio's own CPU use (user, system), percent of one core, as fio reports it. */
  fioUsrCpu: number;
  fioSysCpu: number;
}

export class FioParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FioParseError";
  }
}

/** Normalize a fio percentile key ("99.000000" -> "99", "99.900000" -> "99.9"). */
export function percentileKey(p: number | string): string {
  return String(Number(typeof p === "string" ? parseFloat(p) : p));
}

type Json = Record<string, unknown>;

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

function direction(d: Json | undefined): FioDirection {
  if (!d || typeof d !== "object") return { iops: 0, bwBytesPerSec: 0, ioBytes: 0, totalIos: 0, clatPercentilesMs: {} };
  // fio >= 3: clat_ns (ns); fio 2.x: clat (us).
  const [clat, perMs] = d.clat_ns ? [d.clat_ns as Json, 1e6] : d.clat ? [d.clat as Json, 1e3] : [undefined, 1];
  const totalIos = num(d.total_ios);
  const pct: Record<string, number> = {};
  if (clat && totalIos > 0 && clat.percentile && typeof clat.percentile === "object") {
    for (const [k, v] of Object.entries(clat.percentile as Json)) {
      if (typeof v === "number") pct[percentileKey(k)] = v / perMs;
    }
  }
  const bwBytes = d.bw_bytes !== undefined ? num(d.bw_bytes) : num(d.bw) * 1024; // bw is KiB/s
  const out: FioDirection = { iops: num(d.iops), bwBytesPerSec: bwBytes, ioBytes: num(d.io_bytes), totalIos, clatPercentilesMs: pct };
  if (clat && totalIos > 0 && typeof clat.mean === "number") out.clatMeanMs = clat.mean / perMs;
  return out;
}

/**
 * Parse fio's JSON output. Tolerates lines fio prints before the JSON (warnings). Throws
 * `FioParseError` when there is no JSON, no job, or a job reports an error.
 */
export function parseFioJson(text: string): FioResult {
  const start = text.search(/^\{/m);
  if (start < 0) throw new FioParseError(`fio printed no JSON report: ${text.trim().slice(0, 300) || "(empty output)"}`);
  let doc: Json;
  try {
    doc = JSON.parse(text.slice(start)) as Json;
  } catch (e) {
    throw new FioParseError(`fio's JSON report is malformed: ${(e as Error).message}`);
  }
  const jobs = Array.isArray(doc.jobs) ? (doc.jobs as Json[]) : [];
  if (!jobs.length) throw new FioParseError("fio's JSON report has no jobs");
  const failed = jobs.find((j) => num(j.error) !== 0);
  if (failed) throw new FioParseError(`fio job '${String(failed.jobname)}' failed with error ${num(failed.error)}`);
  if (jobs.length > 1) {
    // Without --group_reporting each job is listed: sum throughput, keep the worst latency.
    const parts = jobs.map((j) => direction(j.read as Json));
    const wparts = jobs.map((j) => direction(j.write as Json));
    const merge = (ds: FioDirection[]): FioDirection => {
      const pct: Record<string, number> = {};
      for (const d of ds) for (const [k, v] of Object.entries(d.clatPercentilesMs)) pct[k] = Math.max(pct[k] ?? 0, v);
      const totalIos = ds.reduce((a, d) => a + d.totalIos, 0);
      const withMean = ds.filter((d) => d.clatMeanMs !== undefined);
      const out: FioDirection = {
        iops: ds.reduce((a, d) => a + d.iops, 0),
        bwBytesPerSec: ds.reduce((a, d) => a + d.bwBytesPerSec, 0),
        ioBytes: ds.reduce((a, d) => a + d.ioBytes, 0),
        totalIos,
        clatPercentilesMs: pct,
      };
      if (withMean.length && totalIos > 0) out.clatMeanMs = withMean.reduce((a, d) => a + d.clatMeanMs! * d.totalIos, 0) / totalIos;
      return out;
    };
    return finish(doc, merge(parts), merge(wparts), jobs);
  }
  return finish(doc, direction(jobs[0].read as Json), direction(jobs[0].write as Json), jobs);
}

function finish(doc: Json, read: FioDirection, write: FioDirection, jobs: Json[]): FioResult {
  return {
    fioVersion: String(doc["fio version"] ?? "unknown"),
    read,
    write,
    iops: read.iops + write.iops,
    bwBytesPerSec: read.bwBytesPerSec + write.bwBytesPerSec,
    runtimeMs: Math.max(...jobs.map((j) => num(j.job_runtime) || num((j.read as Json | undefined)?.runtime))),
    fioUsrCpu: jobs.reduce((a, j) => a + num(j.usr_cpu), 0),
    fioSysCpu: jobs.reduce((a, j) => a + num(j.sys_cpu), 0),
  };
}

/**
 * Completion latency at percentile `p`, ms: the worst of the directions that did any I/O.
 * Undefined when fio did not report that percentile (or did no I/O).
 */
export function latencyAt(r: FioResult, p: number): number | undefined {
  const key = percentileKey(p);
  const vals = [r.read, r.write].filter((d) => d.totalIos > 0).map((d) => d.clatPercentilesMs[key]).filter((v): v is number => v !== undefined);
  return vals.length ? Math.max(...vals) : undefined;
}
