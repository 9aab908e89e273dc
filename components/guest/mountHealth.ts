/**
 * GuestMount's optional health check: a systemd timer runs a small script every `periodSec`
 * that detects a missing, stale or hung mount (`mountpoint -q`, `timeout <n> stat -f`, a read of
 * a marker file), remounts it (`umount -l` + `systemctl restart --no-block <unit>`), logs to the
 * journal with the tag `kvmshare-mount-health`, and writes a Prometheus textfile for
 * node_exporter (up/down, last failure, remount count). Rendering is pure (snapshot-tested).
 */
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { render } from "../../core/render";
import { quote } from "../../core/shell";
import { Checker, isUnknown } from "../../core/validate";
import { checkReservedUnit } from "../../core/reserved";

/** The journal tag (SyslogIdentifier) of every health check. */
export const HEALTH_TAG = "kvmshare-mount-health";

/** GuestMount's `healthCheck`. */
export interface MountHealthCheckArgs {
  /** Seconds between checks (the timer's `OnUnitActiveSec=`). @default 30 */
  periodSec?: number;
  /** Seconds a `stat -f` (and the marker read) may take before the mount counts as hung. @default 5 */
  timeoutSec?: number;
  /** A file below the mount point that must be readable (e.g. `.kvmshare-alive`). @default unset: no marker read @fieldKind path relative */
  marker?: string;
  /** node_exporter's textfile collector directory. @default "/var/lib/prometheus/node-exporter" (Debian's) @fieldKind path dir */
  textfileDir?: string;
  /** Where the script goes. @default "/usr/local/lib/kvmshare" @fieldKind path dir */
  scriptDir?: string;
}

export type ResolvedMountHealth = Resolved<MountHealthCheckArgs, "marker">;

export const MOUNT_HEALTH_DEFAULTS: Defaults<MountHealthCheckArgs, "marker"> = {
  periodSec: 30,
  timeoutSec: 5,
  textfileDir: "/var/lib/prometheus/node-exporter",
  scriptDir: "/usr/local/lib/kvmshare",
};

/** The health-check kind's spec: the resolved options plus the mount it watches. */
export type MountHealthSpec = ResolvedMountHealth & {
  /** The mount point. */
  where: string;
  /** The `.mount` unit restarted on failure. */
  mountUnit: string;
  /** Where unit files go. */
  unitDir: string;
};

export function resolveMountHealth(a: MountHealthCheckArgs | true): ResolvedMountHealth {
  return resolveDefaults<MountHealthCheckArgs, "marker">(a === true ? {} : a, MOUNT_HEALTH_DEFAULTS);
}

/** Every problem with the health check's options (pure). */
export function validateMountHealth(h: MountHealthCheckArgs, prefix = "healthCheck."): Problem[] {
  const c = new Checker("GuestMount");
  c.int(`${prefix}periodSec`, h.periodSec, 5, 86400, "seconds between checks");
  c.int(`${prefix}timeoutSec`, h.timeoutSec, 1, 600, "seconds a stat may take");
  if (typeof h.periodSec === "number" && typeof h.timeoutSec === "number" && h.timeoutSec * 2 + 2 > h.periodSec) {
    c.add(`${prefix}timeoutSec`, h.timeoutSec, `must leave room in the period: at most (periodSec - 2) / 2 = ${Math.floor((h.periodSec - 2) / 2)} s (a check may stat twice)`);
  }
  if (h.marker !== undefined && !isUnknown(h.marker) && (typeof h.marker !== "string" || !/^[^/\0\n\r][^\0\n\r]*$/.test(h.marker) || h.marker.split("/").includes(".."))) {
    c.add(`${prefix}marker`, h.marker, "must be a relative path below the mount point without '..' or newlines, e.g. '.kvmshare-alive'");
  }
  for (const k of ["textfileDir", "scriptDir"] as const) {
    c.absPath(`${prefix}${k}`, h[k], "dir");
    if (typeof h[k] === "string" && /[\s"'\\%$`]/.test(h[k] as string)) c.add(`${prefix}${k}`, h[k], "must not contain spaces, quotes, '\\', '%', '$' or '`' (it goes into a unit file)");
  }
  return c.problems;
}

/**
 * The unit a health check restarts: a `.mount` unit of a mount point below `/` (systemd-escaped
 * path, as GuestMount names it), never the root file system (`-.mount`) or another kind of unit.
 */
export function mountUnitProblems(unit: unknown): Problem[] {
  if (unit === undefined || isUnknown(unit)) return [];
  const c = new Checker("GuestMount");
  if (typeof unit !== "string" || !/^[A-Za-z0-9:_.\\-]{1,250}\.mount$/.test(unit)) {
    c.add("mountUnit", unit, "must be the .mount unit of the watched mount point (systemd-escape --path --suffix=mount <where>), e.g. 'mnt-share.mount'");
  } else checkReservedUnit(c, "mountUnit", unit);
  return c.problems;
}

/** A name safe in file and unit names, from the mount unit (`mnt-nfs.mount` -> `mnt-nfs`). */
export function healthKey(mountUnit: string): string {
  return mountUnit.replace(/\.mount$/, "").replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** Prometheus label value escaping (`\`, `"`, newline). */
function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export interface MountHealthFiles {
  scriptPath: string;
  servicePath: string;
  timerPath: string;
  serviceName: string;
  timerName: string;
  textfilePath: string;
  script: string;
  service: string;
  timer: string;
}

/** The script, service and timer for a spec (pure). */
export function renderMountHealth(s: MountHealthSpec): MountHealthFiles {
  const key = healthKey(s.mountUnit);
  const serviceName = `kvmshare-mount-health-${key}.service`;
  const timerName = `kvmshare-mount-health-${key}.timer`;
  const scriptPath = `${s.scriptDir.replace(/\/$/, "")}/mount-health-${key}.sh`;
  const textfilePath = `${s.textfileDir.replace(/\/$/, "")}/kvmshare_mount_${key}.prom`;
  const unitDir = s.unitDir.replace(/\/$/, "");
  const view = {
    tag: HEALTH_TAG,
    where: s.where,
    unit: s.mountUnit.replace(/%/g, "%%"),
    whereQuoted: quote(s.where),
    unitQuoted: quote(s.mountUnit),
    timeoutSec: s.timeoutSec,
    markerQuoted: quote(s.marker ?? ""),
    textfileQuoted: quote(textfilePath),
    labelsQuoted: quote(`mountpoint="${label(s.where)}",unit="${label(s.mountUnit)}"`),
    stateQuoted: quote(`/var/lib/kvmshare/mount-health/${key}`),
    scriptPath,
    periodSec: s.periodSec,
    serviceTimeoutSec: s.timeoutSec * 2 + 30,
  };
  return {
    scriptPath,
    servicePath: `${unitDir}/${serviceName}`,
    timerPath: `${unitDir}/${timerName}`,
    serviceName,
    timerName,
    textfilePath,
    script: render("mount-health.sh.hbs", view),
    service: render("mount-health.service.hbs", view),
    timer: render("mount-health.timer.hbs", view),
  };
}
