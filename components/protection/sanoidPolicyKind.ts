/**
 * Kind: a snapshot policy run on the host by sanoid from a kvmshare-owned systemd timer
 * (`ZfsSnapshotPolicy` with `scheduler: "sanoid"`). Apply checks the config with sanoid itself
 * (`--readonly` run against a staging config dir) and the units with `systemd-analyze verify`,
 * writes them atomically and enables the timer. Observed: the files' hashes, whether the timer is
 * enabled, and the newest `autosnap_*` snapshot's age; a newest snapshot older than twice the
 * policy's shortest period is drift (`newestSnapshotAgeSec`), as is a timer disabled by hand.
 *
 * sanoid prunes only the `autosnap_*` snapshots of the datasets in its config: snapshots taken
 * by hand, by other tools or by kvmshare's own replication are never pruned.
 */
import * as path from "path";
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { defaultCompare, HostKind } from "../../core/hostKind";
import { planSanoidPolicy, SanoidPlan } from "./sanoidPolicy";
import { desiredScheduled, hostNow, installScheduled, probeFiles, removeScheduled, scheduledJobProblems, SANOID_PATHS, underRoot, unitEnabled } from "./sanoidUnits";
import { datasetExists, listSnapshots, runZfs, SnapshotInfo } from "../storage";
import { validateSnapshotPolicySpec, ZFS_SNAPSHOT_POLICY_DEFAULTS, ZfsSnapshotPolicySpec } from "./zfsSnapshotPolicyArgs";

export type SanoidPolicyState = {
  /** Live-system path -> sha256 of the installed content (null: missing). */
  files: Record<string, string | null>;
  /** `systemctl is-enabled` of the timer ("n/a" with activation "none"). */
  timer: string;
  /** Newest `autosnap_*` snapshot (after '@'), null when none. */
  newestSnapshot: string | null;
  /** Its age in seconds at the probe (null: none). */
  newestSnapshotAgeSec: number | null;
  /** How many `autosnap_*` snapshots the dataset has. */
  snapshotCount: number;
  /** Seconds since sanoid.conf was written (the grace period before the first snapshot). */
  configAgeSec: number | null;
};

type Desired = SanoidPolicyState & { staleAfterSec: number | null };

const d = ZFS_SNAPSHOT_POLICY_DEFAULTS;
const root = (spec: ZfsSnapshotPolicySpec) => spec.root ?? d.root;
const activation = (spec: ZfsSnapshotPolicySpec) => spec.activation ?? d.activation;

export function sanoidSnapshots(snaps: SnapshotInfo[]): SnapshotInfo[] {
  return snaps.filter((s) => s.snap.startsWith("autosnap_")).sort((a, b) => a.creation - b.creation || a.createtxg - b.createtxg);
}

/** Is the newest snapshot (or, before the first, the config) older than twice the shortest period? */
export function staleReason(staleAfterSec: number | null, observed: Pick<SanoidPolicyState, "newestSnapshotAgeSec" | "configAgeSec">): boolean {
  if (staleAfterSec === null) return false;
  const age = observed.newestSnapshotAgeSec ?? observed.configAgeSec;
  return age !== null && age > staleAfterSec;
}

/** Does the host's `zfs get` take `-t snapshot`? sanoid lists snapshots with it (zfs-fuse's does not). */
async function zfsGetTypeProblems(host: Host, field: string, dataset: string): Promise<Problem[]> {
  const r = await host.run(["zfs", "get", "-H", "-t", "snapshot", "-o", "name", "name", dataset], { check: false });
  if (r.code === 0) return [];
  return [
    {
      field,
      value: "sanoid",
      message:
        `sanoid lists snapshots with 'zfs get -Hrpt snapshot', which the ZFS on ${host.label} refuses ` +
        `(${(r.stderr || r.stdout).trim().split("\n")[0]}); sanoid would take every period's snapshot on each run and never prune. ` +
        `Use OpenZFS on this host, or scheduler: "up"`,
    },
  ];
}

/** Run sanoid read-only on a staging copy of the config: its parser and its plan, nothing changed. */
export async function checkSanoidConfig(host: Host, conf: string): Promise<string> {
  const dir = (await host.run(["mktemp", "-d", "/tmp/kvmshare-sanoid.XXXXXX"])).stdout.trim();
  try {
    await host.writeFileAtomic(path.posix.join(dir, "sanoid.conf"), conf, { mode: "0644" });
    await host.run(["mkdir", "-p", `${dir}/cache`, `${dir}/run`]);
    const r = await host.run(
      [SANOID_PATHS.sanoid, `--configdir=${dir}`, `--cache-dir=${dir}/cache`, `--run-dir=${dir}/run`, "--readonly", "--verbose", "--cron"],
      { check: false, env: { TZ: "UTC" } },
    );
    const fatal = (r.stdout + "\n" + r.stderr).split("\n").filter((l) => /FATAL|ERROR|CRITICAL|^Use of uninitialized/.test(l));
    if (r.code !== 0 || fatal.length) {
      throw new Error(`sanoid --readonly refused the candidate config (exit ${r.code}); nothing was installed:\n  ${(fatal.length ? fatal : r.stderr.trim().split("\n").slice(-6)).join("\n  ")}`);
    }
    return r.stdout;
  } finally {
    await host.run(["rm", "-rf", "--", dir], { check: false });
  }
}

async function probeWith(host: Host, spec: ZfsSnapshotPolicySpec, plan: SanoidPlan): Promise<SanoidPolicyState | undefined> {
  const files = await probeFiles(host, root(spec), Object.keys(plan.files));
  if (Object.values(files).every((v) => v === null)) return undefined;
  const now = await hostNow(host);
  const own = (await datasetExists(host, spec.dataset)) ? sanoidSnapshots(await listSnapshots(host, spec.dataset)) : [];
  const newest = own[own.length - 1];
  const mtime = await host.run(["stat", "-c", "%Y", underRoot(root(spec), plan.confPath)], { check: false });
  return {
    files,
    timer: activation(spec) === "none" ? "n/a" : await unitEnabled(host, root(spec), plan.timer),
    newestSnapshot: newest?.snap ?? null,
    newestSnapshotAgeSec: newest ? Math.max(0, now - newest.creation) : null,
    snapshotCount: own.length,
    configAgeSec: mtime.code === 0 ? Math.max(0, now - Number(mtime.stdout.trim())) : null,
  };
}

export const kind: HostKind<ZfsSnapshotPolicySpec, SanoidPolicyState> = {
  name: "SanoidPolicy",
  version: 1,
  validate: (spec) => validateSnapshotPolicySpec(spec),
  async preflight(host, spec) {
    const { problems, datasetExists: exists } = await scheduledJobProblems(host, {
      program: SANOID_PATHS.sanoid,
      calendarField: "timerOnCalendar",
      calendar: spec.timerOnCalendar ?? d.timerOnCalendar,
      datasetField: "dataset",
      dataset: spec.dataset,
    });
    if (exists) problems.push(...(await zfsGetTypeProblems(host, "scheduler", spec.dataset)));
    return problems;
  },
  render(spec) {
    const plan = planSanoidPolicy(spec);
    const desired: Desired = {
      ...desiredScheduled(plan.files, activation(spec)),
      newestSnapshot: null,
      newestSnapshotAgeSec: null,
      snapshotCount: 0,
      configAgeSec: null,
      staleAfterSec: plan.intervalMinutes === null ? null : 2 * plan.intervalMinutes * 60,
    };
    return desired;
  },
  probe: (host, spec) => probeWith(host, spec, planSanoidPolicy(spec)),
  compare(desired, observed) {
    const out = defaultCompare(desired, observed, ["files", "timer"]);
    if (staleReason((desired as Desired).staleAfterSec, observed)) out.push("newestSnapshotAgeSec");
    return out;
  },
  project: (spec) => spec,
  outputs: (spec, observed) => ({
    policy: spec.policy,
    latestSnapshot: observed?.newestSnapshot ? `${spec.dataset}@${observed.newestSnapshot}` : null,
    snapshotCount: observed?.snapshotCount ?? 0,
    newestSnapshotAgeSec: observed?.newestSnapshotAgeSec ?? null,
    timerUnit: planSanoidPolicy(spec).timer,
  }),
  id: (spec) => `SanoidPolicy:${spec.dataset}:${spec.policy}`,
  async apply(host, { spec, log }) {
    const plan = planSanoidPolicy(spec);
    await checkSanoidConfig(host, plan.files[plan.confPath]);
    await installScheduled(host, { root: root(spec), activation: activation(spec), files: plan.files, units: plan.units, timer: plan.timer, log });
    if (activation(spec) === "start") {
      // The first run now, so the newest snapshot's age means something from the start.
      await host.run(["systemctl", "start", plan.service]);
      log(`started ${plan.service} once`);
    }
  },
  async remove(host, spec, _observed, log) {
    const plan = planSanoidPolicy(spec);
    await removeScheduled(host, { root: root(spec), activation: activation(spec), files: Object.keys(plan.files), timer: plan.timer, log });
    await host.run(["rmdir", "--", underRoot(root(spec), plan.configDir)], { check: false });
    if (!(await datasetExists(host, spec.dataset))) return;
    const own = sanoidSnapshots(await listSnapshots(host, spec.dataset));
    if (spec.allowDestroy !== true) {
      if (own.length) log(`left ${own.length} sanoid snapshot(s) on ${spec.dataset} (allowDestroy: false)`);
      return;
    }
    for (const s of own) await runZfs(host, ["zfs", "destroy", s.name]);
    log(`destroyed ${own.length} sanoid snapshot(s) on ${spec.dataset} (allowDestroy: true)`);
  },
};
