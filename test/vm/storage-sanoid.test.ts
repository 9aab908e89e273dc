/**
 * VM lane: scheduled data protection on real OpenZFS 2.1 with Debian's sanoid 2.1.0 and a real
 * systemd, over SSH, through the in-process engine. What the zfs-fuse integration lane cannot
 * show: sanoid taking and pruning snapshots by policy (zfs-fuse's `zfs get` lacks `-t`), a hand
 * snapshot surviving the prune, the timers' services started with `systemctl start` (no waiting
 * for hours: the guest's clock is moved forward instead), syncoid resuming an interrupted receive
 * (`receive -s` tokens), and staleness/hand-disabled timers as drift.
 */
import { Host } from "../../core/connection";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { ZfsReplication, ZfsRestoreDrill, ZfsSnapshotPolicy } from "../../components/protection";
import { describeVm, scenario, useGuest } from "./lane";
import { snaps, treeSums, useStack } from "./stack";
import { vmRelease } from "./image";

const A = "/dev/disk/by-id/virtio-kvmshare-sa";
const B = "/dev/disk/by-id/virtio-kvmshare-sb";

/** Move the guest's clock forward (no time sync runs there), so sanoid sees hours pass. */
async function travel(host: Host, hours: number): Promise<void> {
  await host.run(["sh", "-c", 'date -s "@$(( $(date +%s) + $1 ))" >/dev/null', "sh", String(Math.round(hours * 3600))]);
}

/** `systemctl start` a oneshot service (returns when it finished) and its journal since then. */
async function startService(host: Host, unit: string): Promise<{ code: number; journal: string; seconds: number }> {
  const cursor = (await host.run(["sh", "-c", "journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p'"])).stdout.trim();
  const t0 = Date.now();
  const r = await host.run(["systemctl", "start", unit], { check: false, timeoutMs: 900_000 });
  const seconds = (Date.now() - t0) / 1000;
  const journal = (await host.run(["journalctl", "-u", unit, "--no-pager", "-o", "cat", ...(cursor ? [`--after-cursor=${cursor}`] : [])], { check: false })).stdout;
  return { code: r.code, journal, seconds };
}

describeVm("VM lane: sanoid/syncoid timers, backup window, restore drill on OpenZFS (2.1/2.3)", () => {
  const lane = useGuest("storage-sanoid.test.ts", "openzfs", () => ({ disks: ["sa", "sb"].map((name) => ({ name, sizeMiB: 768 })) }));
  const state = useStack("kvmshare-vm-sanoid-");

  const stack = (over: { repl?: boolean; resume?: boolean; drill?: string } = {}) => () => {
    const { connection } = lane.guest;
    const tank = new ZfsPool("tank", { connection, vdevs: [{ type: "disk", devices: [A] }], mountpoint: "/tank" });
    const backup = new ZfsPool("backup", { connection, vdevs: [{ type: "disk", devices: [B] }], mountpoint: "/backup" });
    const share = new ZfsDataset("share", { pool: tank, datasetName: "tank/share", properties: { compression: "lz4", atime: "off" } });
    new ZfsSnapshotPolicy("hourly", { dataset: share, scheduler: "sanoid", hourly: 2, daily: 1, monthly: 0 });
    if (over.repl) {
      new ZfsReplication("nightly", { source: share, target: "backup/share", scheduler: "syncoid", intervalMinutes: 15, backupWindow: { onlineHours: 16, workloadWeight: 0.5 } }, { dependsOn: [backup] });
    }
    if (over.resume) {
      new ZfsReplication("resumed", { source: share, target: "backup/resumed", scheduler: "syncoid", intervalMinutes: 60 }, { dependsOn: [backup] });
    }
    if (over.drill) new ZfsRestoreDrill("drill", { source: share, target: "backup/share", trigger: over.drill }, { dependsOn: [backup] });
  };

  scenario(lane, "sanoid policy: config checked by sanoid, timer enabled and active, first snapshots taken; a hand snapshot exists alongside", async () => {
    const { host } = lane.guest;
    expect((await host.run(["sanoid", "--version"], { check: false })).stdout + (await host.run(["sanoid", "--version"], { check: false })).stderr).toMatch(vmRelease() === "trixie" ? /2\.2\.0/ : /2\.1\.0/);
    let r = await state.engine.up(() => {
      const { connection } = lane.guest;
      const tank = new ZfsPool("tank", { connection, vdevs: [{ type: "disk", devices: [A] }], mountpoint: "/tank" });
      new ZfsPool("backup", { connection, vdevs: [{ type: "disk", devices: [B] }], mountpoint: "/backup" });
      new ZfsDataset("share", { pool: tank, datasetName: "tank/share", properties: { compression: "lz4", atime: "off" } });
    });
    expect(r.errors).toEqual([]);
    await host.run(["sh", "-c", "dd if=/dev/urandom of=/tank/share/disk.img bs=1M count=16 status=none && echo a=1 > /tank/share/config && sync"]);
    await host.run(["zfs", "snapshot", "tank/share@by-hand"]);
    r = await state.engine.up(stack());
    expect(r.errors).toEqual([]);
    expect((await host.run(["systemctl", "is-enabled", "kvmshare-sanoid-hourly.timer"])).stdout.trim()).toBe("enabled");
    expect((await host.run(["systemctl", "is-active", "kvmshare-sanoid-hourly.timer"])).stdout.trim()).toBe("active");
    expect((await host.readFile("/etc/kvmshare/sanoid/hourly/sanoid.conf"))).toMatch(/\[tank\/share\]\n\tuse_template = kvmshare_hourly/);
    expect(await host.readFile("/etc/sanoid/sanoid.conf")).toBeUndefined(); // Debian's file is not ours to write
    const s = await snaps(host, "tank/share");
    expect(s.filter((x) => /^autosnap_.*_hourly$/.test(x))).toHaveLength(1);
    expect(s.filter((x) => /^autosnap_.*_daily$/.test(x))).toHaveLength(1);
    expect(s).toContain("by-hand");
    expect(r.outputs["hourly-sanoid"].snapshotCount).toBe(2);
    const again = await state.engine.up(stack());
    expect(again.changes.map((c) => `${c.op} ${c.name}`)).toEqual([]);
  });

  scenario(lane, "hours pass (guest clock), the timer's service started by hand: hourly snapshots pruned to 2, daily kept, the hand snapshot survives", async () => {
    const { host } = lane.guest;
    // the timer would fire on its own after each jump; the scenario starts the service itself
    await host.run(["systemctl", "stop", "kvmshare-sanoid-hourly.timer"]);
    const firstHourly = (await snaps(host, "tank/share")).find((x) => /^autosnap_.*_hourly$/.test(x));
    expect(firstHourly).toBeDefined();
    for (let i = 0; i < 3; i++) {
      await travel(host, 1.5);
      const run = await startService(host, "kvmshare-sanoid-hourly.service");
      expect(run.code).toBe(0);
      expect(run.journal).toMatch(/taking snapshot tank\/share@autosnap_\S+_hourly/);
    }
    // sanoid --cron prunes from the list it read before taking this run's snapshot: after a run the
    // newest hourly + 1 remain (measured 2026-11-29: the first two hourly gone, the last three kept)
    const s = await snaps(host, "tank/share");
    const hourly = s.filter((x) => /^autosnap_.*_hourly$/.test(x));
    expect(hourly).toHaveLength(3);
    expect(hourly).not.toContain(firstHourly);
    // daily: 1 keeps one, but a run that crosses UTC midnight takes the new day's (seen 2026-11-29)
    const daily = s.filter((x) => /^autosnap_.*_daily$/.test(x));
    expect(daily.length === 1 || (daily.length === 2 && daily[0].slice(9, 19) !== daily[1].slice(9, 19))).toBe(true);
    expect(s).toContain("by-hand");
  });

  scenario(lane, "a stale newest snapshot and a hand-disabled timer are drift in preview --refresh; up puts the timer back", async () => {
    const { host } = lane.guest;
    await travel(host, 3); // newest hourly now 3 h old: more than twice the hour
    await host.run(["systemctl", "disable", "--now", "kvmshare-sanoid-hourly.timer"]);
    const p = await state.engine.preview(stack(), { refresh: true });
    expect(p.errors).toEqual([]);
    const diffs = p.changes.find((c) => c.name === "hourly-sanoid")?.diffs ?? [];
    expect(diffs).toEqual(expect.arrayContaining(["observed.timer", "observed.newestSnapshotAgeSec"]));
    const r = await state.engine.up(stack());
    expect(r.errors).toEqual([]);
    expect((await host.run(["systemctl", "is-enabled", "kvmshare-sanoid-hourly.timer"])).stdout.trim()).toBe("enabled");
    expect((await host.run(["systemctl", "is-active", "kvmshare-sanoid-hourly.timer"])).stdout.trim()).toBe("active");
    const clean = await state.engine.preview(stack(), { refresh: true });
    expect(clean.changes.map((c) => `${c.name} ${c.diffs.join(",")}`)).toEqual([]);
  });

  scenario(lane, "syncoid timer in the backup window: full then incremental to the second pool (systemctl start), identical trees, RPO reported", async () => {
    const { host } = lane.guest;
    const r = await state.engine.up(stack({ repl: true }));
    expect(r.errors).toEqual([]);
    expect(r.outputs["nightly-syncoid"].schedule).toEqual({ windowHours: 16, onCalendar: "*-*-* 00,01,02,03,04,05,06,07,08,09,10,11,12,13,22,23:00/15:00 UTC", runsPerDay: 64, rpoMinutes: 8 * 60 + 15 });
    expect((await host.run(["systemctl", "show", "-p", "TimersCalendar", "kvmshare-syncoid-nightly.timer"])).stdout).toMatch(/OnCalendar=\*-\*-\* 00,01,02,03,04,05,06,07,08,09,10,11,12,13,22,23:00\/15:00 UTC/);
    let run = await startService(host, "kvmshare-syncoid-nightly.service");
    expect(run.code).toBe(0);
    lane.log(`syncoid full (16 MiB + snapshots) in the guest: ${run.seconds.toFixed(1)} s`);
    await host.run(["sh", "-c", "dd if=/dev/urandom of=/tank/share/more.bin bs=1M count=8 status=none && echo a=2 > /tank/share/config && sync"]);
    await new Promise((res) => setTimeout(res, 1100));
    run = await startService(host, "kvmshare-syncoid-nightly.service");
    expect(run.code).toBe(0);
    lane.log(`syncoid incremental (8 MiB) in the guest: ${run.seconds.toFixed(1)} s`);
    expect(await treeSums(host, "/backup/share")).toBe(await treeSums(host, "/tank/share"));
    expect((await host.run(["zfs", "get", "-H", "-o", "value", "readonly", "backup/share"])).stdout.trim()).toBe("on");
    // the target holds the hand snapshot and sanoid's, sent incrementally (-I)
    expect(await snaps(host, "backup/share")).toEqual(expect.arrayContaining(["by-hand", expect.stringMatching(/^syncoid_nightly_/)]));
  });

  scenario(lane, "an interrupted receive is resumed by the next timer run (receive -s token)", async () => {
    const { host } = lane.guest;
    await host.run(["sh", "-c", "zfs send tank/share@by-hand | head -c 4194304 | zfs receive -s backup/resumed; true"]);
    expect((await host.run(["zfs", "get", "-H", "-o", "value", "receive_resume_token", "backup/resumed"])).stdout.trim()).toMatch(/^[0-9a-f-]{20,}/);
    const r = await state.engine.up(stack({ repl: true, resume: true }));
    expect(r.errors).toEqual([]);
    const run = await startService(host, "kvmshare-syncoid-resumed.service");
    expect(run.code).toBe(0);
    expect(run.journal).toMatch(/Resuming interrupted zfs send\/receive/);
    expect((await host.run(["zfs", "get", "-H", "-o", "value", "receive_resume_token", "backup/resumed"])).stdout.trim()).toBe("-");
    expect(await treeSums(host, "/backup/resumed")).toBe(await treeSums(host, "/tank/share"));
  });

  scenario(lane, "restore drill passes on the backup; the clones are gone", async () => {
    const { host } = lane.guest;
    const r = await state.engine.up(stack({ repl: true, resume: true, drill: "1" }));
    expect(r.errors).toEqual([]);
    const res = r.outputs["drill-drill"].lastResult as Record<string, unknown>;
    expect(res).toMatchObject({ match: true, files: 3, mismatched: [], missing: [], extra: [], unreadable: [] });
    expect((await host.run(["zfs", "list", "-H", "-o", "name"])).stdout).not.toMatch(/kvmshare-drill/);
  });

  scenario(lane, "destroy: timers disabled, units and configs removed; every snapshot stays", async () => {
    const { host } = lane.guest;
    const before = await snaps(host, "tank/share");
    const r = await state.engine.destroy();
    expect(r.errors).toEqual([]);
    expect((await host.run(["systemctl", "is-enabled", "kvmshare-sanoid-hourly.timer"], { check: false })).stdout.trim()).not.toBe("enabled");
    expect(await host.readFile("/etc/systemd/system/kvmshare-syncoid-nightly.service")).toBeUndefined();
    expect(await host.readFile("/etc/kvmshare/sanoid/hourly/sanoid.conf")).toBeUndefined();
    await host.run(["zpool", "import", "tank"], { check: false });
    expect(await snaps(host, "tank/share")).toEqual(before);
  });
});
