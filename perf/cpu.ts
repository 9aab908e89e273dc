/**
 * CPU use of a host while a check runs, from `/proc/stat` read on that host (local or SSH).
 * Busy = everything but idle and iowait, as a percent of all cores.
 */
import { Host } from "../core/connection";

/** Cumulative jiffies of the aggregate `cpu` line. */
export interface CpuTimes {
  total: number;
  idle: number;
}

/** Parse the aggregate `cpu ` line of /proc/stat. Throws when it is missing. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error("/proc/stat has no aggregate 'cpu' line (not a Linux host?)");
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already in user/nice.
  const total = f.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { total, idle };
}

/** Busy percent of all cores between two samples (0 when no time passed). */
export function busyPercent(a: CpuTimes, b: CpuTimes): number {
  const dt = b.total - a.total;
  if (dt <= 0) return 0;
  const busy = dt - (b.idle - a.idle);
  return Math.min(100, Math.max(0, (busy / dt) * 100));
}

export interface CpuUsage {
  /** Average busy percent over the whole sampled span. */
  avgPercent: number;
  /** Highest busy percent of any one interval. */
  peakPercent: number;
  /** Number of intervals measured. */
  intervals: number;
}

/** Samples /proc/stat on `host` every `intervalMs` until `stop()`. */
export class CpuSampler {
  private readonly samples: CpuTimes[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(private readonly host: Host, private readonly intervalMs: number) {}

  /** Take the first sample and keep sampling in the background. */
  static async start(host: Host, intervalMs = 1000): Promise<CpuSampler> {
    const s = new CpuSampler(host, intervalMs);
    await s.sample();
    s.schedule();
    return s;
  }

  private async sample(): Promise<void> {
    const text = await this.host.readFile("/proc/stat");
    if (text === undefined) throw new Error(`${this.host.label}: /proc/stat is missing: CPU use cannot be measured`);
    this.samples.push(parseProcStat(text));
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.pending = this.sample()
        .catch(() => undefined) // a missed intermediate sample only loses peak resolution
        .then(() => {
          if (!this.stopped) this.schedule();
        });
    }, this.intervalMs);
  }

  /** Take the last sample and summarize. */
  async stop(): Promise<CpuUsage> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pending;
    await this.sample();
    const s = this.samples;
    let peak = 0;
    for (let i = 1; i < s.length; i++) peak = Math.max(peak, busyPercent(s[i - 1], s[i]));
    return { avgPercent: busyPercent(s[0], s[s.length - 1]), peakPercent: peak, intervals: s.length - 1 };
  }
}
