/**
 * The systemd side of the scheduled storage kinds (sanoid snapshots, syncoid replication):
 * quoting an argv for `ExecStart=`, checking units with `systemd-analyze verify` and a schedule
 * with `systemd-analyze calendar`, installing files atomically (below an optional alternate root),
 * enabling/starting the timer, and probing what is installed.
 *
 * `activation`: "start" = daemon-reload + `enable --now` of the timer (a running systemd);
 * "enable" = `systemctl --root=<root> enable` (offline: images, sandboxes, tests); "none" = files only.
 */
import { createHash } from "crypto";
import * as path from "path";
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { datasetExists } from "../storage";
import { Activation, verifyUnits } from "../../core/systemdUnits";


/** Where things live on a Debian host (one table). */
export const SANOID_PATHS = {
  sanoid: "/usr/sbin/sanoid",
  syncoid: "/usr/sbin/syncoid",
  unitDir: "/etc/systemd/system",
  configRoot: "/etc/kvmshare/sanoid",
  cacheRoot: "/var/cache/kvmshare/sanoid",
  runRoot: "/run/kvmshare/sanoid",
  package: "sanoid",
} as const;

/** One argv element as systemd's `ExecStart=` reads it (% and $ escaped; quoted when needed). */
export function systemdArg(a: string): string {
  if (/[\n\r\0]/.test(a)) throw new Error(`a unit argument cannot hold a newline or NUL: ${JSON.stringify(a)}`);
  const esc = a.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a)) return esc;
  return `"${esc.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function systemdExec(argv: readonly string[]): string {
  return argv.map(systemdArg).join(" ");
}

/** The argv of a unit's (first) `ExecStart=` line, unquoted: what a test runs by hand where no systemd runs. */
export function execStartArgv(unitText: string): string[] {
  const line = unitText.split("\n").find((l) => l.startsWith("ExecStart="));
  if (!line) throw new Error("unit has no ExecStart= line");
  const s = line.slice("ExecStart=".length);
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const raw = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2];
    out.push(raw.replace(/%%/g, "%").replace(/\$\$/g, "$"));
  }
  return out;
}

export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** A path below an alternate root ("/" = the live system). */
export function underRoot(root: string, p: string): string {
  return root === "/" ? p : path.posix.join(root, p);
}

/** `systemctl` with `--root` when the root is not the live system. */
export function systemctl(root: string): string[] {
  return root === "/" ? ["systemctl"] : ["systemctl", `--root=${root}`];
}

/** Check an OnCalendar expression with the host's own parser. */
export async function calendarProblems(host: Host, field: string, expr: string): Promise<Problem[]> {
  const r = await host.run(["systemd-analyze", "calendar", expr], { check: false });
  if (r.code === 0) return [];
  return [{ field, value: expr, message: `systemd-analyze calendar on ${host.label} refused it: ${(r.stderr || r.stdout).trim().split("\n").pop()}` }];
}

/** The host has the program (sanoid/syncoid), else a problem naming the package. */
export async function programProblems(host: Host, field: string, program: string): Promise<Problem[]> {
  if ((await host.run(["test", "-x", program], { check: false })).code === 0) return [];
  return [{ field, value: program, message: `is not installed on ${host.label}; install the Debian package '${SANOID_PATHS.package}' (apt-get install sanoid)` }];
}

/** Files of a scheduled kind: absolute paths as the live system sees them -> content. */
export type UnitFiles = Record<string, string>;

/**
 * What a scheduled job (sanoid, syncoid) needs on the host, every problem at once: its program
 * (reported on `scheduler`), a calendar systemd accepts (on `calendarField`; null: a loop, no calendar) and its dataset.
 */
export async function scheduledJobProblems(
  host: Host,
  o: { program: string; calendarField: string; calendar: string | null; datasetField: string; dataset: string },
): Promise<{ problems: Problem[]; datasetExists: boolean }> {
  const problems = [...(await programProblems(host, "scheduler", o.program))];
  if (o.calendar !== null) problems.push(...(await calendarProblems(host, o.calendarField, o.calendar)));
  const exists = await datasetExists(host, o.dataset);
  if (!exists) {
    problems.push({ field: o.datasetField, value: o.dataset, message: `does not exist on ${host.label}; declare the ZfsDataset first and pass it as '${o.datasetField}'` });
  }
  return { problems, datasetExists: exists };
}

/** What a scheduled job's render wants: each file's sha256 by path, and the timer enabled unless `activation` is none. */
export function desiredScheduled(files: UnitFiles, activation: Activation): { files: Record<string, string | null>; timer: string } {
  const hashed: Record<string, string | null> = {};
  for (const [p, c] of Object.entries(files)) hashed[p] = sha256(c);
  return { files: hashed, timer: activation === "none" ? "n/a" : "enabled" };
}

/** sha256 of each file's content as installed (null: missing). */
export async function probeFiles(host: Host, root: string, files: readonly string[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const f of files) {
    const c = await host.readFile(underRoot(root, f));
    out[f] = c === undefined ? null : sha256(c);
  }
  return out;
}

/** The host's clock (epoch s): ages of snapshots are measured against the clock that stamped them. */
export async function hostNow(host: Host): Promise<number> {
  const r = await host.run(["date", "+%s"], { check: false });
  const n = Number(r.stdout.trim());
  return r.code === 0 && Number.isFinite(n) && n > 0 ? n : Math.floor(Date.now() / 1000);
}

/** `systemctl is-enabled <unit>` (offline under an alternate root). */
export async function unitEnabled(host: Host, root: string, unit: string): Promise<string> {
  const r = await host.run([...systemctl(root), "is-enabled", unit], { check: false });
  return r.stdout.trim().split("\n").pop() || `unknown (exit ${r.code})`;
}

/**
 * Verify the units (scratch dir), write every file that changed atomically, then activate the
 * timer. Returns whether any file changed.
 */
export async function installScheduled(
  host: Host,
  opts: { root: string; activation: Activation; files: UnitFiles; units: Record<string, string>; timer: string; log(m: string): void },
): Promise<boolean> {
  await verifyUnits(host, opts.units);
  let changed = false;
  for (const [p, content] of Object.entries(opts.files)) {
    const at = underRoot(opts.root, p);
    if ((await host.readFile(at)) === content) continue;
    await host.run(["mkdir", "-p", "--", path.posix.dirname(at)]);
    await host.writeFileAtomic(at, content, { mode: "0644" });
    opts.log(`wrote ${at}`);
    changed = true;
  }
  const sc = systemctl(opts.root);
  if (opts.activation === "start") {
    if (changed) await host.run([...sc, "daemon-reload"]);
    await host.run([...sc, "enable", "--now", opts.timer]);
  } else if (opts.activation === "enable") {
    await host.run([...sc, "enable", opts.timer]);
  }
  return changed;
}

/** Undo `installScheduled`: stop and disable the timer, remove the files (data untouched). */
export async function removeScheduled(host: Host, opts: { root: string; activation: Activation; files: readonly string[]; timer: string; log(m: string): void }): Promise<void> {
  const sc = systemctl(opts.root);
  if (opts.activation === "start") await host.run([...sc, "disable", "--now", opts.timer], { check: false });
  else if (opts.activation === "enable") await host.run([...sc, "disable", opts.timer], { check: false });
  for (const f of opts.files) if (await host.removeFile(underRoot(opts.root, f))) opts.log(`removed ${underRoot(opts.root, f)}`);
  if (opts.activation === "start") await host.run([...sc, "daemon-reload"], { check: false });
}
