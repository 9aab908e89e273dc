/**
 * Storage, scheduled protection: the backup window rule and its timer schedules, sanoid's config
 * and the kvmshare units (snapshots), the syncoid flags (no rollback without allowDestroy), the
 * validation messages, the restore drill's manifest comparison, the capacity plan counting kept
 * snapshots, and the components under mocks (schedule output, log, warning).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  backupSchedule,
  backupWindowHours,
  backupWindowWarning,
  fireMinutes,
  onCalendar,
  scheduleRpoMinutes,
  validateBackupWindow,
  validateTimerInterval,
} from "../../components/protection/backupWindow";
import { intervalRetention, requiredBytes, sanoidRetention } from "../../components/storage/capacity";
import { compareManifests, parseManifest, pickSnapshot } from "../../components/protection/restoreDrillEngine";
import { planSanoidPolicy } from "../../components/protection/sanoidPolicy";
import { staleReason } from "../../components/protection/sanoidPolicyKind";
import { execStartArgv, systemdArg, systemdExec } from "../../components/protection/sanoidUnits";
import { planSyncoidReplication, syncoidArgv } from "../../components/protection/syncoidReplication";
import { SnapshotInfo } from "../../components/storage/zfsCli";
import { resolveZfsReplication, validateReplicationSpec } from "../../components/protection/zfsReplicationArgs";
import { resolveZfsSnapshotPolicy, validateSnapshotPolicySpec } from "../../components/protection/zfsSnapshotPolicyArgs";
import { formatProblem } from "../../core/errors";
import { mockPulumi, resolved } from "./mocks";
import { runCli } from "../fixtures/cli";

const GiB = 1024 ** 3;

describe("backup window T_backup = T_online x W / (1 - W)", () => {
  it.each([
    [16, 0.5, 16],
    [12, 0.3, (12 * 0.3) / 0.7],
    [8, 0.6, 12],
    [10, 0.7, (10 * 0.7) / 0.3],
    [24, 0.1, 24 * 0.1 / 0.9],
  ])("T_online %p h, W %p -> %p h", (t, w, want) => {
    expect(backupWindowHours(t, w)).toBeCloseTo(want, 10);
  });

  it.each([
    [{ onlineHours: 16, workloadWeight: 0 }, "backupWindow.workloadWeight: must be a number strictly between 0 and 1"],
    [{ onlineHours: 16, workloadWeight: 1 }, "backupWindow.workloadWeight: must be a number strictly between 0 and 1"],
    [{ onlineHours: 16, workloadWeight: -0.2 }, "(got -0.2)"],
    [{ onlineHours: 0, workloadWeight: 0.5 }, "backupWindow.onlineHours: must be a number of hours a day the workload is online, > 0 and <= 24 (T_online) (got 0)"],
    [{ onlineHours: 25, workloadWeight: 0.5 }, "(got 25)"],
    [{ onlineHours: 8, workloadWeight: 0.5, startHour: 24 }, "backupWindow.startHour: must be an integer from 0 to 23 (the UTC hour the window opens, e.g. 22) (got 24)"],
  ])("rejects %j", (w, msg) => {
    const problems = validateBackupWindow(w).map(formatProblem);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(msg);
  });

  it("warns outside 0.3-0.7 only", () => {
    expect(backupWindowWarning({ onlineHours: 16, workloadWeight: 0.5 })).toBeUndefined();
    expect(backupWindowWarning({ onlineHours: 16, workloadWeight: 0.3 })).toBeUndefined();
    expect(backupWindowWarning({ onlineHours: 16, workloadWeight: 0.8 })).toBe(
      "backupWindow.workloadWeight: 0.8 is outside the usual 0.3-0.7: the window is 64.00 h (T_online 16 h x 0.8 / (1 - 0.8)), capped at 24 h: backups run all day",
    );
    expect(backupWindowWarning({ onlineHours: 2, workloadWeight: 0.2 })).toMatch(/0.50 h .*shorter than an hour/);
  });

  it.each([
    // interval, window, OnCalendar, runs a day, RPO minutes
    [15, undefined, "*-*-* *:00/15:00 UTC", 96, 15],
    [60, undefined, "*-*-* *:00:00 UTC", 24, 60],
    [240, undefined, "*-*-* 00,04,08,12,16,20:00:00 UTC", 6, 240],
    [1440, undefined, "*-*-* 00:00:00 UTC", 1, 1440],
    // 8 h online, W 0.5 -> 8 h from 22:00: 22..05, every 15 min; the gap 06:00-22:00 + 15 min
    [15, { onlineHours: 8, workloadWeight: 0.5 }, "*-*-* 00,01,02,03,04,05,22,23:00/15:00 UTC", 32, 16 * 60 + 15],
    // 10 h x 0.3/0.7 = 4.29 h -> 5 whole hours from 01:00
    [30, { onlineHours: 10, workloadWeight: 0.3, startHour: 1 }, "*-*-* 01,02,03,04,05:00/30:00 UTC", 10, 19 * 60 + 30],
    // a window of 24 h or more runs all day
    [60, { onlineHours: 16, workloadWeight: 0.7 }, "*-*-* *:00:00 UTC", 24, 60],
  ])("interval %p min, window %j -> %s", (interval, window, cal, runs, rpo) => {
    expect(onCalendar(interval, window)).toBe(cal);
    expect(fireMinutes(interval, window)).toHaveLength(runs);
    expect(scheduleRpoMinutes(interval, window)).toBe(rpo);
  });

  it("reports window, schedule and RPO together", () => {
    expect(backupSchedule(15, { onlineHours: 16, workloadWeight: 0.5, startHour: 20 })).toEqual({
      windowHours: 16,
      onCalendar: "*-*-* 00,01,02,03,04,05,06,07,08,09,10,11,20,21,22,23:00/15:00 UTC",
      runsPerDay: 64,
      rpoMinutes: 8 * 60 + 15,
    });
  });

  it.each([[7], [45], [90], [0], [1.5]])("an interval of %p min cannot be a calendar timer", (m) => {
    expect(validateTimerInterval("intervalMinutes", m).map(formatProblem)[0]).toMatch(/^intervalMinutes: must divide an hour/);
  });
});

describe("systemd ExecStart quoting", () => {
  it.each([
    ["tank/vm", "tank/vm"],
    ["--configdir=/etc/kvmshare/sanoid/p", "--configdir=/etc/kvmshare/sanoid/p"],
    ["a b", '"a b"'],
    ["50%", "50%%"],
    ["$HOME", '"$$HOME"'],
    ['q"x', '"q\\"x"'],
  ])("%p -> %p", (a, want) => expect(systemdArg(a)).toBe(want));

  it("parses back what it wrote", () => {
    const argv = ["/usr/sbin/syncoid", "--identifier=x", "tank/a b", "50%", "$x", 'q"x'];
    expect(execStartArgv(`[Service]\nExecStart=${systemdExec(argv)}\n`)).toEqual(argv);
  });

  it("refuses a newline", () => expect(() => systemdArg("a\nb")).toThrow(/newline/));
});

describe("sanoid policy", () => {
  const spec = resolveZfsSnapshotPolicy("hourly", { dataset: "tank/vm", scheduler: "sanoid", hourly: 36, daily: 14, monthly: 3 });

  it("renders sanoid.conf, the service and the timer", () => {
    const plan = planSanoidPolicy(spec);
    expect(Object.keys(plan.files)).toEqual([
      "/etc/kvmshare/sanoid/hourly/sanoid.conf",
      "/etc/systemd/system/kvmshare-sanoid-hourly.service",
      "/etc/systemd/system/kvmshare-sanoid-hourly.timer",
    ]);
    for (const [p, text] of Object.entries(plan.files)) expect(text).toMatchSnapshot(p);
    expect(plan.execStart).toEqual([
      "/usr/sbin/sanoid",
      "--cron",
      "--configdir=/etc/kvmshare/sanoid/hourly",
      "--cache-dir=/var/cache/kvmshare/sanoid/hourly",
      "--run-dir=/run/kvmshare/sanoid/hourly",
      "--verbose",
    ]);
    expect(execStartArgv(plan.units["kvmshare-sanoid-hourly.service"])).toEqual(plan.execStart);
    expect(plan.intervalMinutes).toBe(60);
  });

  it("a prune-only policy (autosnap off) has no staleness yardstick", () => {
    const p = planSanoidPolicy(resolveZfsSnapshotPolicy("prune", { dataset: "backup/vm", scheduler: "sanoid", autosnap: false }));
    expect(p.files["/etc/kvmshare/sanoid/prune/sanoid.conf"]).toContain("autosnap = no");
    expect(p.intervalMinutes).toBeNull();
  });

  it("is stale when the newest snapshot is older than twice the interval (or the config, before the first)", () => {
    expect(staleReason(7200, { newestSnapshotAgeSec: 7000, configAgeSec: 99999 })).toBe(false);
    expect(staleReason(7200, { newestSnapshotAgeSec: 7201, configAgeSec: 10 })).toBe(true);
    expect(staleReason(7200, { newestSnapshotAgeSec: null, configAgeSec: 10 })).toBe(false);
    expect(staleReason(7200, { newestSnapshotAgeSec: null, configAgeSec: 8000 })).toBe(true);
    expect(staleReason(null, { newestSnapshotAgeSec: 1e9, configAgeSec: 1e9 })).toBe(false);
  });

  it("keeps the 'up' spec as it was (no update of deployed stacks)", () => {
    expect(resolveZfsSnapshotPolicy("p", { dataset: "tank/vm" })).toEqual({ policy: "p", dataset: "tank/vm", intervalMinutes: 0, keep: 7, allowDestroy: false, prefix: "kvmshare-p" });
  });

  it("rejects bad sanoid fields, every one named", () => {
    const bad = resolveZfsSnapshotPolicy("p", {
      dataset: "tank/vm",
      scheduler: "sanoid",
      hourly: 0,
      daily: 0,
      monthly: 0,
      timerOnCalendar: "",
      root: "/tmp/x",
      activation: "start",
    });
    expect(validateSnapshotPolicySpec(bad).map(formatProblem)).toEqual([
      "hourly: hourly, daily and monthly are all 0: sanoid would take no snapshot; keep at least one (e.g. hourly: 24) or set autosnap: false (got 0)",
      "timerOnCalendar: must be a systemd OnCalendar expression on one line, e.g. '*:0/15' or 'hourly' (got '')",
      "activation: cannot be 'start' with an alternate root (no systemd runs there): use 'enable' (offline, systemctl --root) or 'none' (got 'start')",
    ]);
    expect(validateSnapshotPolicySpec(resolveZfsSnapshotPolicy("p", { dataset: "tank/vm", scheduler: "cron" as never })).map(formatProblem)).toEqual([
      "scheduler: must be one of up, sanoid (got 'cron')",
    ]);
  });
});

describe("syncoid replication", () => {
  const base = { source: "tank/vm", target: "backup/vm", scheduler: "syncoid" as const, intervalMinutes: 15 };

  it("passes --no-rollback unless allowDestroy, never --force-delete", () => {
    const safe = syncoidArgv(resolveZfsReplication("offsite", base));
    expect(safe).toEqual(["/usr/sbin/syncoid", "--identifier=offsite", "--no-rollback", "tank/vm", "backup/vm"]);
    const destroy = syncoidArgv(resolveZfsReplication("offsite", { ...base, allowDestroy: true, resumable: false }));
    expect(destroy).toEqual(["/usr/sbin/syncoid", "--identifier=offsite", "--no-resume", "tank/vm", "backup/vm"]);
    expect([...safe, ...destroy].some((a) => a.includes("force-delete"))).toBe(false);
  });

  it("reaches a remote target with a key file and a checked host key", () => {
    const spec = resolveZfsReplication("off", { ...base, targetConnection: { kind: "local" }, sshTarget: { host: "backup1", keyFile: "/root/.ssh/backup", port: 2222 } });
    expect(syncoidArgv(spec).slice(-6)).toEqual([
      "--sshkey=/root/.ssh/backup",
      "--sshport=2222",
      "--sshoption=BatchMode=yes",
      "--sshoption=StrictHostKeyChecking=yes",
      "tank/vm",
      "root@backup1:backup/vm",
    ]);
  });

  it("renders the service and the windowed timer", () => {
    const plan = planSyncoidReplication(resolveZfsReplication("offsite", { ...base, backupWindow: { onlineHours: 8, workloadWeight: 0.5 } }));
    for (const [p, text] of Object.entries(plan.files)) expect(text).toMatchSnapshot(p);
    expect(plan.execStartPost).toEqual(["zfs", "set", "readonly=on", "backup/vm"]);
    expect(plan.schedule.onCalendar).toBe("*-*-* 00,01,02,03,04,05,22,23:00/15:00 UTC");
  });

  it("rejects what a host timer cannot do, every problem named", () => {
    const spec = resolveZfsReplication("r", { source: "tank/vm", target: "backup/vm", scheduler: "syncoid", dryRun: true, targetConnection: { kind: "local" }, backupWindow: { onlineHours: 8, workloadWeight: 1 } });
    expect(validateReplicationSpec(spec).map(formatProblem)).toEqual([
      expect.stringMatching(/^backupWindow.workloadWeight: must be a number strictly between 0 and 1 .*\(got 1\)$/),
      "intervalMinutes: must be > 0 with scheduler 'syncoid' (the timer's period, e.g. 15) (got 0)",
      "dryRun: has no meaning with scheduler 'syncoid' (the host replicates on its own); use scheduler 'up' for a dry run (got true)",
      "sshTarget: is required with scheduler 'syncoid' and a targetConnection: syncoid runs on the source host and needs { host, keyFile } to reach the target",
    ]);
    expect(validateReplicationSpec(resolveZfsReplication("r", { source: "tank/vm", target: "b/vm", backupWindow: { onlineHours: 8, workloadWeight: 0.5 } })).map(formatProblem)).toEqual([
      "backupWindow: needs scheduler: 'syncoid' (the window is the host timer's schedule; 'up' replicates when you deploy) (got 'set')",
    ]);
  });
});

describe("restore drill manifests", () => {
  const h = (c: string) => c.repeat(64);
  it("parses sha256sum output and its unreadable files", () => {
    const m = parseManifest(`${h("a")}  ./x\n${h("b")}  ./dir/y z\n`, "sha256sum: ./bad: Input/output error\n");
    expect([...m.files]).toEqual([["./x", h("a")], ["./dir/y z", h("b")]]);
    expect(m.unreadable).toEqual(["./bad"]);
  });

  it("matches identical manifests, and names every difference otherwise", () => {
    const src = parseManifest(`${h("a")}  ./same\n${h("b")}  ./changed\n${h("c")}  ./gone\n${h("d")}  ./rotten\n`, "");
    expect(compareManifests(src, src)).toEqual({ files: 4, mismatched: [], missing: [], extra: [], unreadable: [], match: true });
    const dst = parseManifest(`${h("a")}  ./same\n${h("e")}  ./changed\n${h("f")}  ./new\n`, "sha256sum: ./rotten: Input/output error\n");
    expect(compareManifests(src, dst)).toEqual({ files: 4, mismatched: ["./changed"], missing: ["./gone"], extra: ["./new"], unreadable: ["target:./rotten"], match: false });
  });

  it("picks the newest snapshot both sides share, by guid", () => {
    const s = (snap: string, guid: string, createtxg: number): SnapshotInfo => ({ name: `p/d@${snap}`, snap, guid, createtxg, creation: createtxg, props: {} });
    const src = [s("a", "1", 1), s("b", "2", 2), s("c", "3", 3)];
    expect(pickSnapshot(src, [s("a", "1", 1), s("b", "2", 2)])).toBe("b");
    expect(pickSnapshot(src, [s("a", "1", 1), s("b", "2", 2)], "a")).toBe("a");
    expect(() => pickSnapshot(src, [s("b", "99", 2)], "b")).toThrow(/not the source's/);
    expect(() => pickSnapshot(src, [s("x", "9", 1)])).toThrow(/shares no snapshot/);
  });
});

describe("capacity plan counts the snapshots a policy keeps", () => {
  it("sanoid counts: hourly + daily + monthly, span = the longest", () => {
    expect(sanoidRetention({ hourly: 48, daily: 30, monthly: 3 })).toEqual({ snapshots: 81, spanDays: 93 });
    expect(intervalRetention(48, 60)).toEqual({ snapshots: 48, spanDays: 2 });
    expect(intervalRetention(48, 60, 1)).toEqual({ snapshots: 48, spanDays: 1 });
  });

  it("S becomes Davg x span when that is more than the reserve", () => {
    // 1.2 x (50 + 20 x 30) + max(100, 20 x 93) = 780 + 1860
    expect(requiredBytes({ peakDailyGiB: 50, avgDailyGiB: 20, retentionDays: 30, snapshotReserveGiB: 100, snapshotRetention: { snapshots: 81, spanDays: 93 } })).toBe(2640 * GiB);
    expect(requiredBytes({ peakDailyGiB: 50, avgDailyGiB: 20, retentionDays: 30, snapshotReserveGiB: 100, snapshotRetention: { snapshots: 7, spanDays: 1 } })).toBe(880 * GiB);
  });
});

describe("components under mocks", () => {
  const m = mockPulumi({ preview: true });

  it("ZfsReplication with syncoid reports the window at preview (output + log) and warns outside 0.3-0.7", async () => {
    const { ZfsReplication } = await import("../../components/protection");
    const info = jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());
    const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const r = new ZfsReplication("nightly", { ...{ source: "tank/vm", target: "backup/vm" }, scheduler: "syncoid", intervalMinutes: 30, backupWindow: { onlineHours: 16, workloadWeight: 0.2 } });
    expect(await resolved(r.schedule)).toEqual({ windowHours: 4, onCalendar: "*-*-* 00,01,22,23:00/30:00 UTC", runsPerDay: 8, rpoMinutes: 20 * 60 + 30 });
    expect(info).toHaveBeenCalledWith(expect.stringContaining("ZfsReplication nightly: backup window 4 h (T_online 16 h x W 0.2 / (1 - W)) from 22:00 UTC; timer OnCalendar=*-*-* 00,01,22,23:00/30:00 UTC, 8 runs a day, RPO 1230 min"), expect.anything());
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("backupWindow.workloadWeight: 0.2 is outside the usual 0.3-0.7"), expect.anything());
    await new Promise((res) => setTimeout(res, 50));
    expect(m.byName("nightly-syncoid").type).toBe("pulumi-nodejs:dynamic/kvmshare:SyncoidReplication");
    info.mockRestore();
    warn.mockRestore();
  });

  it("ZfsSnapshotPolicy with sanoid creates the sanoid resource and exposes its retention", async () => {
    const { ZfsSnapshotPolicy } = await import("../../components/protection");
    const p = new ZfsSnapshotPolicy("s", { dataset: "tank/vm", scheduler: "sanoid", hourly: 24, daily: 7 });
    expect(p.retention).toEqual({ snapshots: 31, spanDays: 7 });
    await new Promise((res) => setTimeout(res, 50));
    expect(m.byName("s-sanoid").inputs.spec).toMatchObject({ scheduler: "sanoid", hourly: 24, daily: 7, monthly: 0, activation: "start", root: "/" });
  });

  it("ZfsReplication rejects an interval no calendar can express, before registering anything", async () => {
    const { ZfsReplication } = await import("../../components/protection");
    const before = m.registered.length;
    expect(() => new ZfsReplication("bad", { source: "tank/vm", target: "backup/vm", scheduler: "syncoid", intervalMinutes: 7 })).toThrow(/intervalMinutes: must divide an hour/);
    expect(m.registered.length).toBe(before);
  });
});

describe("kvmshare drill: bad input", () => {
  it("names every bad argument and exits 2 before touching any host", async () => {
    const { register } = await import("../../cli/drill");
    const { code, err } = await runCli(register, "drill", "tank", "backup/vm", "--snapshot", "a@b", "--target-host", "backup1");
    expect(code).toBe(2);
    expect(err).toBe(
      "kvmshare drill: 4 invalid inputs:\n" +
        "  - <source>: must be 'pool/dataset[/child...]' of letters, digits, '_', '.', ':', '-' (at most 255 characters; no '@' or '#') (got 'tank')\n" +
        "  - --snapshot: must be a snapshot name (after '@') (got 'a@b')\n" +
        "  - --target-key: is required with --target-host (a private key file)\n" +
        "  - --target-host-key: is required with --target-host (SHA256:... as ssh-keygen -l prints it)\n",
    );
  });
});
