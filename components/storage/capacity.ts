/**
 * The capacity plan: C = 1.2 x (Dpeak + Davg x T) + S, where Dpeak is the peak day's data,
 * Davg the average day's, T the retention in days and S the snapshot reserve. Pure functions:
 * the components compare the plan with the pool's (estimated or observed) usable size and warn
 * at preview when the pool is too small.
 */
import { Problem } from "../../core/errors";
import { Checker } from "../../core/validate";

export interface CapacityPlan {
  /** Data written on the busiest day, in GiB (Dpeak). */
  peakDailyGiB: number;
  /** Data written on an average day, in GiB (Davg). */
  avgDailyGiB: number;
  /** Days the data (and its snapshots) are kept (T). */
  retentionDays: number;
  /** Space held back for snapshots, in GiB (S). @default 0 */
  snapshotReserveGiB?: number;
  /** Headroom factor. @default 1.2 */
  headroom?: number;
  /**
   * The snapshots a policy keeps (`ZfsSnapshotPolicy.retention`): they pin every change made
   * during their span, so S is at least Davg x spanDays. @default unset: S as given
   */
  snapshotRetention?: SnapshotRetention;
}

/** What a snapshot policy keeps at steady state. */
export interface SnapshotRetention {
  /** Snapshots kept. */
  snapshots: number;
  /** Days between the oldest kept snapshot and now: the changes they pin. */
  spanDays: number;
}

/** sanoid counts: hourly + daily + monthly snapshots; the span is the longest of them (a month = 31 days). */
export function sanoidRetention(r: { hourly: number; daily: number; monthly: number }): SnapshotRetention {
  return { snapshots: r.hourly + r.daily + r.monthly, spanDays: Math.max(r.hourly / 24, r.daily, r.monthly * 31) };
}

/** kvmshare's own policy: `keep` snapshots `intervalMinutes` apart (0 = one per up: span unknown, counted as a day each), capped by maxAgeDays. */
export function intervalRetention(keep: number, intervalMinutes: number, maxAgeDays?: number): SnapshotRetention {
  const span = (keep * (intervalMinutes > 0 ? intervalMinutes : 1440)) / 1440;
  return { snapshots: keep, spanDays: maxAgeDays !== undefined ? Math.min(span, maxAgeDays) : span };
}

/** S in GiB: the reserve given, or what the kept snapshots pin (Davg x span), whichever is larger. */
export function snapshotGiB(plan: CapacityPlan): number {
  const pinned = plan.snapshotRetention ? plan.avgDailyGiB * plan.snapshotRetention.spanDays : 0;
  return Math.max(plan.snapshotReserveGiB ?? 0, pinned);
}

const GiB = 1024 ** 3;

export function validateCapacityPlan(plan: CapacityPlan | undefined, prefix = "capacityPlan."): Problem[] {
  if (plan === undefined) return [];
  const c = new Checker("capacityPlan");
  const num = (k: keyof CapacityPlan, min: number) => {
    const v = plan[k];
    if (v === undefined && (k === "snapshotReserveGiB" || k === "headroom")) return;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min) c.add(`${prefix}${k}`, v, `must be a number >= ${min}`);
  };
  num("peakDailyGiB", 0);
  num("avgDailyGiB", 0);
  num("retentionDays", 0);
  num("snapshotReserveGiB", 0);
  num("headroom", 1);
  const r = plan.snapshotRetention;
  if (r !== undefined && (typeof r !== "object" || !(r.snapshots >= 0) || !(r.spanDays >= 0))) {
    c.add(`${prefix}snapshotRetention`, r, "must be { snapshots, spanDays } >= 0 (take it from a ZfsSnapshotPolicy's `retention`)");
  }
  if (typeof plan.peakDailyGiB === "number" && typeof plan.avgDailyGiB === "number" && plan.avgDailyGiB > plan.peakDailyGiB) {
    c.add(`${prefix}avgDailyGiB`, plan.avgDailyGiB, `cannot exceed peakDailyGiB (${plan.peakDailyGiB}): the average day is not bigger than the peak day`);
  }
  return c.problems;
}

/** C in bytes. */
export function requiredBytes(plan: CapacityPlan): number {
  const h = plan.headroom ?? 1.2;
  return Math.ceil((h * (plan.peakDailyGiB + plan.avgDailyGiB * plan.retentionDays) + snapshotGiB(plan)) * GiB);
}

/** A warning when `availableBytes` is below the plan, else undefined. */
export function capacityWarning(what: string, plan: CapacityPlan, availableBytes: number | undefined): string | undefined {
  if (availableBytes === undefined || !Number.isFinite(availableBytes)) return undefined;
  const need = requiredBytes(plan);
  if (availableBytes >= need) return undefined;
  const g = (b: number) => (b / GiB).toFixed(2);
  return (
    `${what}: ${g(availableBytes)} GiB is smaller than the capacity plan C = ${plan.headroom ?? 1.2} x (Dpeak ${plan.peakDailyGiB} + ` +
    `Davg ${plan.avgDailyGiB} x T ${plan.retentionDays}) + S ${+snapshotGiB(plan).toFixed(2)}` +
    (plan.snapshotRetention ? ` (${plan.snapshotRetention.snapshots} snapshots kept over ${plan.snapshotRetention.spanDays.toFixed(2)} days)` : "") +
    ` = ${g(need)} GiB ` +
    `(short by ${g(need - availableBytes)} GiB); add devices or shorten retentionDays`
  );
}

/**
 * Usable bytes of a layout whose device sizes are known (file devices created with a size):
 * mirror = smallest member, raidzN = (members - N) x smallest, stripes add up. ZFS keeps a
 * little more for itself (about 3 %), so this is an upper bound.
 */
export function usableBytes(vdevs: { type: string; devices: string[] }[], deviceBytes: (dev: string) => number | undefined): number | undefined {
  let total = 0;
  for (const v of vdevs) {
    const sizes = v.devices.map(deviceBytes);
    if (sizes.some((s) => s === undefined)) return undefined;
    const min = Math.min(...(sizes as number[]));
    const parity = v.type === "raidz1" ? 1 : v.type === "raidz2" ? 2 : v.type === "raidz3" ? 3 : 0;
    total += v.type === "mirror" || v.type === "disk" ? min : (v.devices.length - parity) * min;
  }
  return total;
}
