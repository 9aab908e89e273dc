/**
 * What a ZfsSnapshotPolicy with `scheduler: "sanoid"` puts on the host (pure): a kvmshare-owned
 * sanoid config in `/etc/kvmshare/sanoid/<policy>/sanoid.conf` (so /etc/sanoid/sanoid.conf,
 * Debian's, is left alone and policies stay apart), and `kvmshare-sanoid-<policy>.service` +
 * `.timer` running `sanoid --cron --configdir=...` with its own cache and run directories.
 */
import * as path from "path";
import { render } from "../../core/render";
import { SANOID_PATHS, systemdExec } from "./sanoidUnits";
import { ZFS_SNAPSHOT_POLICY_DEFAULTS, ZfsSnapshotPolicySpec } from "./zfsSnapshotPolicyArgs";

export interface SanoidPlan {
  service: string;
  timer: string;
  configDir: string;
  confPath: string;
  /** The sanoid command the service runs. */
  execStart: string[];
  /** Live-system path -> content. */
  files: Record<string, string>;
  /** Unit name -> content (for systemd-analyze verify). */
  units: Record<string, string>;
  /** The shortest period sanoid snapshots at, in minutes (null: autosnap off): the staleness yardstick. */
  intervalMinutes: number | null;
}

const d = ZFS_SNAPSHOT_POLICY_DEFAULTS;

/** The shortest period with a count > 0, minutes (a month counted as 31 days). */
export function sanoidIntervalMinutes(spec: ZfsSnapshotPolicySpec): number | null {
  if ((spec.autosnap ?? d.autosnap) === false) return null;
  if ((spec.hourly ?? d.hourly) > 0) return 60;
  if ((spec.daily ?? d.daily) > 0) return 1440;
  if ((spec.monthly ?? d.monthly) > 0) return 31 * 1440;
  return null;
}

export function planSanoidPolicy(spec: ZfsSnapshotPolicySpec): SanoidPlan {
  const p = spec.policy;
  const service = `kvmshare-sanoid-${p}.service`;
  const timer = `kvmshare-sanoid-${p}.timer`;
  const configDir = path.posix.join(SANOID_PATHS.configRoot, p);
  const confPath = path.posix.join(configDir, "sanoid.conf");
  const execStart = [
    SANOID_PATHS.sanoid,
    "--cron",
    `--configdir=${configDir}`,
    `--cache-dir=${path.posix.join(SANOID_PATHS.cacheRoot, p)}`,
    `--run-dir=${path.posix.join(SANOID_PATHS.runRoot, p)}`,
    "--verbose",
  ];
  const yesNo = (b: boolean) => (b ? "yes" : "no");
  const conf = render("sanoid.conf.hbs", {
    policy: p,
    service,
    configDir,
    datasets: [{ name: spec.dataset }],
    hourly: spec.hourly ?? d.hourly,
    daily: spec.daily ?? d.daily,
    monthly: spec.monthly ?? d.monthly,
    autosnap: yesNo(spec.autosnap ?? d.autosnap),
    autoprune: yesNo(spec.autoprune ?? d.autoprune),
  });
  const serviceText = render("kvmshare-sanoid.service.hbs", {
    policy: p,
    datasetList: spec.dataset,
    configDir,
    timer,
    cacheDirectory: `kvmshare/sanoid/${p}`,
    runtimeDirectory: `kvmshare/sanoid/${p}`,
    execStart: systemdExec(execStart),
  });
  const timerText = render("kvmshare-schedule.timer.hbs", {
    owner: `ZfsSnapshotPolicy ${p}`,
    why: "sanoid decides itself which snapshots are due; the timer only wakes it.",
    description: `kvmshare sanoid policy ${p} timer`,
    onCalendar: spec.timerOnCalendar ?? d.timerOnCalendar,
    service,
  });
  const unitDir = SANOID_PATHS.unitDir;
  return {
    service,
    timer,
    configDir,
    confPath,
    execStart,
    files: { [confPath]: conf, [path.posix.join(unitDir, service)]: serviceText, [path.posix.join(unitDir, timer)]: timerText },
    units: { [service]: serviceText, [timer]: timerText },
    intervalMinutes: sanoidIntervalMinutes(spec),
  };
}
