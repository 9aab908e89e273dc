/**
 * Near-continuous replication (ZfsReplication with `scheduler: "syncoid"` and `interval` in
 * seconds or a systemd time span): a long-running service on the source host runs syncoid in a
 * loop, one run every `interval` seconds start to start (pure rendering here; the kind installs it).
 *
 * Why a loop and not a monotonic timer (`OnUnitActiveSec=` + `AccuracySec=1s`): the loop keeps
 * its start times on a fixed grid (the next start is computed from the previous grid point, not
 * from when a run ended) and cannot overlap by construction; its state (last success, failures)
 * lives in one process. `npm run bench:rpo -- 24 5 jitter` measured its start error under load
 * (docs/storage.md). A timer could not be measured on the build machine (no systemd as PID 1);
 * it would start a fresh oneshot per tick, so a lock and a state file would be needed anyway.

 * Guarantees of the script:
 * - one run at a time per replication: `flock -n` on `<stateDir>/<name>.lock`; a second copy
 *   (a hand run, a restart racing the old process) exits with 75 and a journal line;
 * - bounded snapshots: after a good run every own snapshot (`syncoid_<name>_<host>_*`, syncoid's
 *   `--identifier` names) older than the newest is destroyed on the source and on a local target
 *   (syncoid prunes too, but only warns when a destroy fails, e.g. "busy" on zfs-fuse right
 *   after a receive, and a run killed mid-way never gets to its prune); after a failed run the
 *   snapshots that run added on the source are destroyed. No other snapshot is ever touched;
 * - lag is visible: every run writes `<stateDir>/<name>.state` (read by the kind's probe: drift
 *   at `preview --refresh`), a node_exporter textfile (last success age, lag in bytes, last run
 *   duration) and, on failure, falling behind and recovery, a journal line.
 *
 * The RPO it promises: runs start every I s; a run that starts at t sends the data as of t, and
 * the target has it at t + R (R the run's duration). While R <= I, the newest data the target
 * can lack is at most I + R <= 2 I old: the `schedule` output says `rpoSeconds: 2 I`, and a run
 * longer than I (falling behind) is reported, since the promise no longer holds.
 */
import * as path from "path";
import { Problem } from "../../core/errors";
import { render } from "../../core/render";
import { quote } from "../../core/shell";
import { Checker } from "../../core/validate";
import type { BackupSchedule } from "./backupWindow";
import { SANOID_PATHS } from "./sanoidUnits";

/** Bounds of `interval` (seconds). Below 5 s a syncoid run (1-3 s on zfs-fuse here) would take most of the interval. */
export const MIN_INTERVAL_SECONDS = 5;
/** Longer than a day: use `intervalMinutes` (a calendar timer). */
export const MAX_INTERVAL_SECONDS = 86_400;

/** The journal tag (SyslogIdentifier) of every continuous replication. */
export const REPLICATION_TAG = "kvmshare-replication";

/** Where the continuous mode's files go on the host (fixed; `stateDir` and `textfileDir` are arguments). */
export const CONTINUOUS_PATHS = { scriptDir: "/usr/local/lib/kvmshare" } as const;

const UNITS: Record<string, number> = { s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, minute: 60, minutes: 60, h: 3600, hr: 3600, hour: 3600, hours: 3600 };

/** Seconds of an interval: a number of seconds, or a systemd time span ("10s", "1min 30s", "2m"); undefined when it is neither. */
export function intervalSeconds(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v !== "string" || !/^\s*(\d+\s*[a-z]+\s*)+$/.test(v)) return undefined;
  let total = 0;
  for (const m of v.matchAll(/(\d+)\s*([a-z]+)/g)) {
    const f = UNITS[m[2]];
    if (f === undefined) return undefined;
    total += Number(m[1]) * f;
  }
  return total;
}

/** Problems with `interval` (its bounds named). */
export function validateInterval(field: string, v: unknown): Problem[] {
  if (v === undefined) return [];
  const c = new Checker("ZfsReplication");
  const s = intervalSeconds(v);
  if (s === undefined) c.add(field, v, "must be a number of seconds or a systemd time span with units s, min, h (e.g. 10, \"10s\", \"1min 30s\")");
  else if (!Number.isInteger(s) || s < MIN_INTERVAL_SECONDS || s > MAX_INTERVAL_SECONDS) {
    c.add(field, v, `must be whole seconds from ${MIN_INTERVAL_SECONDS} to ${MAX_INTERVAL_SECONDS} (a day); it is ${s} s. Longer intervals: intervalMinutes (a calendar timer)`);
  }
  return c.problems;
}

/** What `schedule` says for a continuous replication: the interval and the RPO it promises (2 x interval while runs finish within it). */
export function continuousSchedule(interval: number): BackupSchedule {
  return {
    windowHours: null,
    onCalendar: `none: ${REPLICATION_TAG} loop service, every ${interval} s`,
    runsPerDay: Math.floor(86_400 / interval),
    rpoMinutes: (2 * interval) / 60,
    intervalSeconds: interval,
    rpoSeconds: 2 * interval,
  };
}

export interface ContinuousInput {
  name: string;
  source: string;
  /** The target as syncoid names it (`user@host:dataset` for a remote one). */
  target: string;
  /** The target dataset when it is on the source host (the loop prunes there too), else null. */
  localTarget: string | null;
  interval: number;
  syncoid: string[];
  /** Run after a good run (e.g. `zfs set readonly=on <target>`), or null. */
  post: string[] | null;
  stateDir: string;
  textfileDir: string;
}

export interface ContinuousFiles {
  service: string;
  scriptPath: string;
  statePath: string;
  lockPath: string;
  textfilePath: string;
  script: string;
  serviceText: string;
}

/** Prometheus label value escaping (`\`, `"`, newline). */
const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** The loop script and its service (pure). Every value reaches the script through `quote`. */
export function renderContinuous(i: ContinuousInput): ContinuousFiles {
  const service = `kvmshare-syncoid-${i.name}.service`;
  const scriptPath = path.posix.join(CONTINUOUS_PATHS.scriptDir, `kvmshare-replicate-${i.name}.sh`);
  const statePath = path.posix.join(i.stateDir, `${i.name}.state`);
  const lockPath = path.posix.join(i.stateDir, `${i.name}.lock`);
  const textfilePath = path.posix.join(i.textfileDir, `kvmshare_replication_${i.name}.prom`);
  const view = {
    tag: REPLICATION_TAG,
    name: i.name,
    source: i.source.replace(/\n/g, " "),
    target: i.target.replace(/\n/g, " "),
    interval: i.interval,
    rpo: 2 * i.interval,
    nameQ: quote(i.name),
    sourceQ: quote(i.source),
    localTargetQ: quote(i.localTarget ?? ""),
    syncoidQ: i.syncoid.map(quote).join(" "),
    postQ: i.post ? i.post.map(quote).join(" ") : "true",
    stateQ: quote(statePath),
    lockQ: quote(lockPath),
    textfileQ: quote(textfilePath),
    labelsQ: quote(`replication="${label(i.name)}",source="${label(i.source)}",target="${label(i.target)}"`),
    zfs: "zfs",
  };
  const script = render("kvmshare-replicate.sh.hbs", view);
  const serviceText = render("kvmshare-replicate.service.hbs", { ...view, scriptPath, syncoidPath: SANOID_PATHS.syncoid });
  return { service, scriptPath, statePath, lockPath, textfilePath, script, serviceText };
}

/** The state file the script writes (`key=value` lines), parsed; numbers where they are numbers. */
export type ContinuousState = {
  /** Epoch s when the newest good run started (its data is on the target), 0 = never. */
  lastSuccess: number;
  /** Epoch s when the last run ended. */
  lastRunEnd: number;
  /** Exit code of the last run (0 = good). */
  lastExit: number;
  /** Seconds the last run took. */
  lastRunSec: number;
  /** Bytes written on the source since the newest replicated snapshot (-1: unknown). */
  lagBytes: number;
  /** How lagBytes was measured. */
  lagMethod: string;
  /** The last line syncoid printed when the last run failed, else "". */
  lastError: string;
  runs: number;
  failures: number;
};

export function parseContinuousState(text: string): ContinuousState {
  const kv = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const n = (k: string, dflt = 0) => {
    const v = Number(kv.get(k));
    return kv.has(k) && Number.isFinite(v) ? v : dflt;
  };
  return {
    lastSuccess: n("last_success"),
    lastRunEnd: n("last_run_end"),
    lastExit: n("last_exit"),
    lastRunSec: n("last_run_ms") / 1000,
    lagBytes: n("lag_bytes", -1),
    lagMethod: kv.get("lag_method") ?? "",
    lastError: kv.get("last_error") ?? "",
    runs: n("runs"),
    failures: n("failures"),
  };
}

/**
 * Why a continuous replication is behind its promise at `now` (host clock), each reason naming
 * what to look at; [] when it keeps it. A replication that has not run yet is not behind.
 */
export function lagProblems(s: ContinuousState, interval: number, now: number): string[] {
  const out: string[] = [];
  const rpo = 2 * interval;
  if (s.runs === 0) return out;
  const age = s.lastSuccess > 0 ? now - s.lastSuccess : null;
  if (age === null) out.push(`no run has succeeded yet (${s.failures} failed)`);
  else if (age > rpo) out.push(`the newest replicated data is ${age} s old, more than the promised RPO of ${rpo} s`);
  if (s.lastExit !== 0) out.push(`the last run failed (exit ${s.lastExit}): ${s.lastError || "see the journal"}`);
  if (s.lastRunSec > interval) out.push(`the last run took ${s.lastRunSec.toFixed(1)} s, longer than the interval of ${interval} s (falling behind)`);
  return out;
}
