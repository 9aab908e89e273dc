/**
 * Progress: the events the engine emits, and a meter that turns them into rate and ETA for
 * whoever shows them (the CLI's bar or lines, Pulumi log messages).
 */

export interface StartEvent {
  type: "start";
  source: string;
  destination: string;
  totalBytes: number;
  files: number;
  streams: number;
  chunkSize: number;
}
export interface ProgressTick {
  type: "progress";
  /** Bytes of the source that are done (copied, or found intact on resume). */
  doneBytes: number;
  totalBytes: number;
  /** Bytes actually sent this run. */
  copiedBytes: number;
}
export interface NoticeEvent {
  type: "notice";
  message: string;
}
export interface FileDoneEvent {
  type: "file";
  path: string;
  bytes: number;
}
export type ProgressEvent = StartEvent | ProgressTick | NoticeEvent | FileDoneEvent;

/** Rate over a sliding window (default 3 s) and ETA from it. */
export class RateMeter {
  private samples: { t: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 3000, private readonly now: () => number = () => Date.now()) {}

  /** Record the cumulative byte count; returns bytes/s over the window. */
  add(cumulativeBytes: number): number {
    const t = this.now();
    this.samples.push({ t, bytes: cumulativeBytes });
    while (this.samples.length > 2 && t - this.samples[1].t >= this.windowMs) this.samples.shift();
    return this.rate();
  }

  rate(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    return b.t > a.t ? ((b.bytes - a.bytes) * 1000) / (b.t - a.t) : 0;
  }

  /** Seconds left for `remainingBytes` at the current rate (Infinity when unknown). */
  eta(remainingBytes: number): number {
    const r = this.rate();
    return r > 0 ? remainingBytes / r : Infinity;
  }
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
