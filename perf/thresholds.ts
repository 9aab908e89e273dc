/**
 * Performance thresholds: typed limits, named presets, validation, and the comparison of
 * measured figures against them. Pure: no host access.
 */
import { Problem } from "../core/errors";
import { isUnknown } from "../core/validate";

/**
 * Limits a share is checked against. Every field is optional: an unset limit is not checked.
 * `null` switches off a limit the preset sets (e.g. `{ preset: "reference", maxLossPercent: null }`).
 */
export interface Thresholds {
  /**
   * Start from a named preset (see `THRESHOLD_PRESETS`); fields set here override it, `null`
   * switches a preset's limit off. @default unset: no preset, only the limits set here
   * @fieldKind name
   */
  preset?: string;
  /** Lowest acceptable total IOPS (read + write) of the fio mix (> 0). @default unset: not checked */
  minIops?: number | null;
  /** Highest acceptable completion latency, in milliseconds (> 0), at `latencyPercentile` (worst of read and write). @default unset: not checked */
  maxLatencyMs?: number | null;
  /** The percentile `maxLatencyMs` applies to (0 < p < 100). @default 99 */
  latencyPercentile?: number;
  /** Highest acceptable average CPU use of the host fio runs on, percent of all cores (0 < x <= 100). @default unset: not checked */
  maxCpuPercent?: number | null;
  /** Highest acceptable packet loss to the ping target, percent (0-100). Needs a ping target (`loss`). @default unset: not checked */
  maxLossPercent?: number | null;
}

/** Thresholds with the preset merged in and the percentile defaulted. */
export interface ResolvedThresholds {
  preset?: string;
  minIops?: number;
  maxLatencyMs?: number;
  latencyPercentile: number;
  maxCpuPercent?: number;
  maxLossPercent?: number;
}

export const DEFAULT_LATENCY_PERCENTILE = 99;

/**
 * Named presets. `reference` is the monitoring target of the brief kvmshare was started from:
 * NFS at least 12,000 IOPS, SMB latency at most 15 ms (taken here at p99), CPU at most 65 %,
 * packet loss at most 0.1 %. The IOPS figure was set for NFS shares and the latency figure for
 * SMB shares; `reference-nfs` and `reference-smb` keep only the figure meant for that protocol
 * (plus CPU and loss). They are starting points to override, not truths about every host.
 */
export const THRESHOLD_PRESETS: Readonly<Record<string, Readonly<Omit<Thresholds, "preset">>>> = Object.freeze({
  reference: Object.freeze({ minIops: 12000, maxLatencyMs: 15, latencyPercentile: 99, maxCpuPercent: 65, maxLossPercent: 0.1 }),
  "reference-nfs": Object.freeze({ minIops: 12000, maxCpuPercent: 65, maxLossPercent: 0.1 }),
  "reference-smb": Object.freeze({ maxLatencyMs: 15, latencyPercentile: 99, maxCpuPercent: 65, maxLossPercent: 0.1 }),
});

const NUMERIC_FIELDS = ["minIops", "maxLatencyMs", "latencyPercentile", "maxCpuPercent", "maxLossPercent"] as const;
type NumericField = (typeof NUMERIC_FIELDS)[number];

/**
 * Every problem with a thresholds object (field, value, fix). `prefix` is prepended to field
 * names (e.g. `thresholds.`). `hasPingTarget` tells whether a loss limit can be measured.
 */
export function validateThresholds(t: Thresholds | undefined, prefix = "thresholds.", hasPingTarget?: boolean): Problem[] {
  const problems: Problem[] = [];
  if (t === undefined || isUnknown(t)) return problems;
  if (typeof t !== "object" || t === null || Array.isArray(t)) {
    return [{ field: prefix.replace(/\.$/, ""), value: t, message: "must be an object such as { minIops: 12000, maxLatencyMs: 15 }" }];
  }
  const known = new Set<string>(["preset", ...NUMERIC_FIELDS]);
  for (const k of Object.keys(t)) {
    if (!known.has(k)) problems.push({ field: `${prefix}${k}`, value: (t as Record<string, unknown>)[k], message: `is not a threshold; use one of ${[...known].join(", ")}` });
  }
  if (t.preset !== undefined && !isUnknown(t.preset) && !(typeof t.preset === "string" && t.preset in THRESHOLD_PRESETS)) {
    problems.push({ field: `${prefix}preset`, value: t.preset, message: `must be one of ${Object.keys(THRESHOLD_PRESETS).join(", ")}` });
  }
  const num = (f: NumericField, ok: (n: number) => boolean, fix: string) => {
    const v = t[f];
    if (v === undefined || isUnknown(v) || (v === null && f !== "latencyPercentile")) return;
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) problems.push({ field: `${prefix}${f}`, value: v, message: fix });
  };
  num("minIops", (n) => n > 0, "must be a positive number of IOPS, e.g. 12000");
  num("maxLatencyMs", (n) => n > 0, "must be a positive number of milliseconds, e.g. 15");
  num("latencyPercentile", (n) => n > 0 && n < 100, "must be a percentile above 0 and below 100, e.g. 99 or 99.9");
  num("maxCpuPercent", (n) => n > 0 && n <= 100, "must be a percent above 0 and at most 100, e.g. 65 (share of all cores)");
  num("maxLossPercent", (n) => n >= 0 && n <= 100, "must be a percent from 0 to 100, e.g. 0.1");
  if (hasPingTarget === false && problems.length === 0) {
    const r = resolveThresholds(t);
    if (r.maxLossPercent !== undefined) {
      problems.push({
        field: `${prefix}maxLossPercent`,
        value: r.maxLossPercent,
        message: `needs a ping target to measure loss against: set loss.target (e.g. the guest's address)${t.preset ? `, or set maxLossPercent: null to not check the preset's loss limit` : ", or remove this limit"}`,
      });
    }
  }
  return problems;
}

/** Merge the preset (if any) with the explicit fields; explicit fields win. Assumes a valid input. */
export function resolveThresholds(t: Thresholds | undefined): ResolvedThresholds {
  const base = t?.preset ? THRESHOLD_PRESETS[t.preset] ?? {} : {};
  const out: ResolvedThresholds = { latencyPercentile: DEFAULT_LATENCY_PERCENTILE };
  if (t?.preset) out.preset = t.preset;
  for (const f of NUMERIC_FIELDS) {
    const v = t && t[f] !== undefined ? t[f] : base[f];
    if (v !== undefined && v !== null) (out as unknown as Record<string, number>)[f] = v;
  }
  return out;
}

/** The figures a check measured (`undefined`: not measured). */
export interface Measured {
  /** Total IOPS, read + write. */
  iops: number;
  /** Worst of read and write completion latency at the thresholds' percentile, ms. */
  latencyMs?: number;
  /** Average CPU busy percent of all cores during the run. */
  cpuPercent?: number;
  /** Packet loss to the ping target, percent. */
  lossPercent?: number;
}

/** One threshold that was missed, with the numbers. */
export interface Miss {
  /** The threshold's field name, e.g. `minIops`. */
  threshold: keyof Omit<ResolvedThresholds, "preset" | "latencyPercentile">;
  limit: number;
  /** The measured figure (`null`: it could not be measured, which counts as a miss). */
  measured: number | null;
  /** How far past the limit, in the threshold's unit (always positive; `null` when not measured). */
  by: number | null;
  /** `by` relative to the limit, percent (undefined when the limit is 0). */
  byPercent?: number;
  /** A sentence naming the threshold and by how much it was missed. */
  message: string;
}

function fmt(n: number, digits = 2): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits });
}

/** The unit `Miss.by` is in, per threshold (percent limits differ by percentage points). */
export const MISS_UNITS: Readonly<Record<Miss["threshold"], string>> = Object.freeze({
  minIops: " IOPS",
  maxLatencyMs: " ms",
  maxCpuPercent: " percentage points",
  maxLossPercent: " percentage points",
});

function miss(threshold: Miss["threshold"], limit: number, measured: number, what: string, unit: string, dir: "below the minimum" | "above the maximum"): Miss {
  const by = Math.abs(measured - limit);
  const byPercent = limit !== 0 ? (by / limit) * 100 : undefined;
  const rel = byPercent !== undefined ? ` (${fmt(byPercent, 1)} % of the limit)` : "";
  return {
    threshold,
    limit,
    measured,
    by,
    ...(byPercent !== undefined ? { byPercent } : {}),
    message: `${threshold}: ${what} ${fmt(measured)}${unit} is ${fmt(by)}${MISS_UNITS[threshold]}${rel} ${dir} ${fmt(limit)}${unit}`,
  };
}

/** Compare measured figures with resolved thresholds; one `Miss` per threshold missed. */
export function evaluate(m: Measured, t: ResolvedThresholds): Miss[] {
  const out: Miss[] = [];
  if (t.minIops !== undefined && m.iops < t.minIops) out.push(miss("minIops", t.minIops, m.iops, "IOPS", "", "below the minimum"));
  if (t.maxLatencyMs !== undefined) {
    if (m.latencyMs === undefined) {
      out.push({ threshold: "maxLatencyMs", limit: t.maxLatencyMs, measured: null, by: null, message: `maxLatencyMs: no p${t.latencyPercentile} latency was measured (fio completed no I/O)` });
    } else if (m.latencyMs > t.maxLatencyMs) {
      out.push(miss("maxLatencyMs", t.maxLatencyMs, m.latencyMs, `p${t.latencyPercentile} latency`, " ms", "above the maximum"));
    }
  }
  if (t.maxCpuPercent !== undefined && m.cpuPercent !== undefined && m.cpuPercent > t.maxCpuPercent) {
    out.push(miss("maxCpuPercent", t.maxCpuPercent, m.cpuPercent, "CPU", " %", "above the maximum"));
  }
  if (t.maxLossPercent !== undefined) {
    if (m.lossPercent === undefined) {
      out.push({ threshold: "maxLossPercent", limit: t.maxLossPercent, measured: null, by: null, message: "maxLossPercent: packet loss was not measured (no ping target)" });
    } else if (m.lossPercent > t.maxLossPercent) {
      out.push(miss("maxLossPercent", t.maxLossPercent, m.lossPercent, "packet loss", " %", "above the maximum"));
    }
  }
  return out;
}
