/**
 * The brief's backup window rule and the timer schedules built from it (pure).
 *
 *   T_backup = T_online x W / (1 - W)
 *
 * T_online is how many hours a day the workload is online, W (0 < W < 1) the workload weight
 * (the brief gives 0.3-0.7 as the sane range). The window opens at `startHour` (UTC, as the
 * timers run with TZ=UTC) and lasts T_backup hours (at most 24); within it the replication timer
 * fires every `intervalMinutes`. The schedule is a systemd `OnCalendar` expression, checked on the
 * host with `systemd-analyze calendar` in preflight. The RPO the schedule gives is the longest
 * gap between two runs over a day (plus the run's own duration, which is measured, not assumed).
 */
import { Problem } from "../../core/errors";
import { Checker } from "../../core/validate";

export interface BackupWindow {
  /** Hours a day the workload is online (T_online), 0 < h <= 24. */
  onlineHours: number;
  /** Workload weight W, 0 < W < 1 (0.3-0.7 recommended). */
  workloadWeight: number;
  /** Hour of day (UTC, 0-23) the window opens. @default 22 */
  startHour?: number;
}

export const BACKUP_WINDOW_START_HOUR = 22;

/** The longest snapshot/replication interval: a year, in minutes. */
export const MAX_INTERVAL_MINUTES = 525_600;
/**
 * The most a count or period of the protection components may be, each with why it is the
 * bound (named in the message): past these no human means what they wrote, and ZFS slows down
 * listing, sending and destroying many thousands of snapshots of one dataset.
 */
export const PROTECTION_BOUNDS = {
  intervalMinutes: { max: MAX_INTERVAL_MINUTES, why: "a year" },
  keep: { max: 10_000, why: "ZFS lists, sends and prunes more snapshots of one dataset slowly" },
  hourly: { max: 8_784, why: "a year of hourly snapshots" },
  daily: { max: 3_660, why: "ten years of daily snapshots" },
  monthly: { max: 1_200, why: "a hundred years of monthly snapshots" },
  keepSnapshots: { max: 1_000, why: "replication needs one common snapshot; more serve no use" },
  maxAgeDays: { max: 36_600, why: "a hundred years" },
} as const;

/** The most snapshots a policy keeps (per series). */
export const MAX_KEEP = PROTECTION_BOUNDS.keep.max;

/** Check an integer count or period against its bound in `PROTECTION_BOUNDS` (field, value, the bound and why). */
export function checkBound(c: Checker, field: string, key: keyof typeof PROTECTION_BOUNDS, v: unknown, min: number, hint: string): void {
  const b = PROTECTION_BOUNDS[key];
  c.int(field, v as number | undefined, min, b.max, `${hint}; bound ${b.max}: ${b.why}`);
}

/** The recommended range of W; outside it the component warns. */
export const WORKLOAD_WEIGHT_RANGE = [0.3, 0.7] as const;

/** T_backup in hours: T_online x W / (1 - W). */
export function backupWindowHours(onlineHours: number, workloadWeight: number): number {
  return (onlineHours * workloadWeight) / (1 - workloadWeight);
}

/** Every problem with a backup window (W outside (0, 1) is an error). */
export function validateBackupWindow(w: BackupWindow | undefined, prefix = "backupWindow."): Problem[] {
  if (w === undefined) return [];
  const c = new Checker("backupWindow");
  if (typeof w.onlineHours !== "number" || !Number.isFinite(w.onlineHours) || !(w.onlineHours > 0) || w.onlineHours > 24) {
    c.add(`${prefix}onlineHours`, w.onlineHours, "must be a number of hours a day the workload is online, > 0 and <= 24 (T_online)");
  }
  if (typeof w.workloadWeight !== "number" || !Number.isFinite(w.workloadWeight) || !(w.workloadWeight > 0 && w.workloadWeight < 1)) {
    c.add(
      `${prefix}workloadWeight`,
      w.workloadWeight,
      "must be a number strictly between 0 and 1 (the workload weight W of T_backup = T_online x W / (1 - W); 0.3-0.7 is typical)",
    );
  }
  c.int(`${prefix}startHour`, w.startHour, 0, 23, "the UTC hour the window opens, e.g. 22");
  return c.problems;
}

/** A warning when W is valid but outside 0.3-0.7, else undefined. */
export function backupWindowWarning(w: BackupWindow): string | undefined {
  const [lo, hi] = WORKLOAD_WEIGHT_RANGE;
  if (!(w.workloadWeight > 0 && w.workloadWeight < 1)) return undefined;
  if (w.workloadWeight >= lo && w.workloadWeight <= hi) return undefined;
  const h = backupWindowHours(w.onlineHours, w.workloadWeight);
  return (
    `backupWindow.workloadWeight: ${w.workloadWeight} is outside the usual ${lo}-${hi}: the window is ` +
    `${h.toFixed(2)} h (T_online ${w.onlineHours} h x ${w.workloadWeight} / (1 - ${w.workloadWeight}))` +
    (h >= 24 ? ", capped at 24 h: backups run all day" : h < 1 ? ", shorter than an hour: increments may pile up" : "")
  );
}

/** Problems with an interval used as a timer schedule (it must tile an hour or a day). */
export function validateTimerInterval(field: string, minutes: unknown): Problem[] {
  const m = minutes as number;
  const ok = Number.isInteger(m) && m > 0 && ((m < 60 && 60 % m === 0) || (m >= 60 && m % 60 === 0 && 1440 % m === 0));
  if (ok) return [];
  return [
    {
      field,
      value: minutes,
      message: "must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) or be whole hours dividing a day (60, 120, 180, 240, 360, 480, 720, 1440) so the timer can fire on a calendar",
    },
  ];
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Minutes of the day (UTC) at which a timer of `intervalMinutes` fires, within the window when given. */
export function fireMinutes(intervalMinutes: number, window?: BackupWindow): number[] {
  const all: number[] = [];
  for (let t = 0; t < 1440; t += intervalMinutes) all.push(t);
  if (!window) return all;
  const hours = Math.min(24, backupWindowHours(window.onlineHours, window.workloadWeight));
  const start = (window.startHour ?? BACKUP_WINDOW_START_HOUR) * 60;
  // Whole hours, so the calendar expression is exact; runs start in [start, start + len).
  const len = Math.max(intervalMinutes, Math.ceil(hours) * 60);
  if (len >= 1440) return all;
  const inWindow = (t: number) => (t - start + 1440) % 1440 < len;
  return all.filter(inWindow);
}

/** The systemd OnCalendar expression for those fire times (UTC). */
export function onCalendar(intervalMinutes: number, window?: BackupWindow): string {
  const times = fireMinutes(intervalMinutes, window);
  const hours = [...new Set(times.map((t) => Math.floor(t / 60)))].sort((a, b) => a - b);
  const minutes = [...new Set(times.map((t) => t % 60))].sort((a, b) => a - b);
  const hourSpec = hours.length === 24 ? "*" : hours.map(pad).join(",");
  const minuteSpec = minutes.length === 1 ? pad(minutes[0]) : minutes.length === 60 ? "*" : `00/${intervalMinutes}`;
  return `*-*-* ${hourSpec}:${minuteSpec}:00 UTC`;
}

/** The longest gap between two runs over a day, in minutes: the RPO the schedule gives (before run time). */
export function scheduleRpoMinutes(intervalMinutes: number, window?: BackupWindow): number {
  const t = fireMinutes(intervalMinutes, window);
  if (t.length === 1) return 1440;
  let worst = 0;
  for (let i = 0; i < t.length; i++) worst = Math.max(worst, ((t[(i + 1) % t.length] - t[i] + 1440 - 1) % 1440) + 1);
  return worst;
}

/** What the component reports at preview. */
export interface BackupSchedule {
  /** T_backup in hours (uncapped; null without a window). */
  windowHours: number | null;
  /** The timer's OnCalendar expression. */
  onCalendar: string;
  /** Runs a day. */
  runsPerDay: number;
  /** The longest gap between runs, minutes (the RPO before the run's own duration). */
  rpoMinutes: number;
  /** Continuous replication (`interval`): seconds between the starts of runs. */
  intervalSeconds?: number;
  /** Continuous replication: the RPO promised while runs finish within the interval (2 x interval), seconds. */
  rpoSeconds?: number;
}

export function backupSchedule(intervalMinutes: number, window?: BackupWindow): BackupSchedule {
  return {
    windowHours: window ? Math.round(backupWindowHours(window.onlineHours, window.workloadWeight) * 1000) / 1000 : null,
    onCalendar: onCalendar(intervalMinutes, window),
    runsPerDay: fireMinutes(intervalMinutes, window).length,
    rpoMinutes: scheduleRpoMinutes(intervalMinutes, window),
  };
}
