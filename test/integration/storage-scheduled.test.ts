/**
 * Scheduled data protection on a real zfs-fuse with the real sanoid and syncoid (Debian package
 * `sanoid` 2.1.0), through the in-process engine. No systemd runs here as PID 1, so the units are
 * installed under an alternate root (`systemctl --root` enables them offline, `systemd-analyze
 * verify` checks them) and each scenario runs the service's ExecStart by hand, as the timer would.
 *
 * What zfs-fuse cannot do is said, and proven on OpenZFS in test/vm/storage-sanoid.test.ts:
 * - sanoid lists snapshots with `zfs get -Hrpt snapshot`, which zfs-fuse's `zfs get` refuses
 *   ("invalid option 't'"): sanoid would take every period's snapshot on each run and never
 *   prune, so the policy is refused at preview here (scenario 1), and taking/pruning/hand
 *   snapshot survival run in the VM lane;
 * - resumable receive (`receive -s`) needs `feature@extensible_dataset`: syncoid says it
 *   continues without resume (scenario 4); the resumed send runs in the VM lane.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { treeSha256 as tree } from "../fixtures/files";
import { register as registerDrill } from "../../cli/drill";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { ZfsReplication, ZfsRestoreDrill, ZfsSnapshotPolicy } from "../../components/protection";
import { checkSanoidConfig } from "../../components/protection/sanoidPolicyKind";
import { planSanoidPolicy } from "../../components/protection/sanoidPolicy";
import { execStartArgv } from "../../components/protection/sanoidUnits";
import { resolveZfsSnapshotPolicy } from "../../components/protection/zfsSnapshotPolicyArgs";
import { LocalHost } from "../../core/connection";
import { Engine } from "../harness/engine";
import { ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS } from "../fixtures/zfsFuse";
import { runCli } from "../fixtures/cli";
import { useZfsStack } from "../harness/stack";
import { requirePrograms } from "../requirePrograms";

process.env.KVMSHARE_QUIET ??= "1";
jest.setTimeout(240_000);

const describe = requirePrograms([...ZFS_FUSE_PROGRAMS, "sanoid", "syncoid"], ZFS_FUSE_REQUIREMENTS);

const zfs = (...args: string[]) => execFileSync("zfs", args, { encoding: "utf8" }).trim();
const snaps = (ds: string) => zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", ds).split("\n").filter(Boolean).map((s) => s.split("@")[1]);

/** zfs-fuse answers "busy" for a moment after a receive (and while other test files' namespaces hold a copy of its mounts): retry. */
function retry<T>(what: string, fn: () => T): T {
  for (let i = 0; ; i++) {
    try {
      return fn();
    } catch (e) {
      if (i >= 20 || !/busy/.test(String((e as { stderr?: unknown }).stderr ?? e))) throw e;
      spawnSync("sleep", ["0.5"]);
    }
  }
}

function mountOf(ds: string): string {
  if (zfs("get", "-H", "-o", "value", "mounted", ds) !== "yes") retry(`mount ${ds}`, () => execFileSync("zfs", ["mount", ds], { stdio: "pipe" }));
  return zfs("get", "-H", "-o", "value", "mountpoint", ds);
}

describe("scheduled snapshots, replication and restore drill on zfs-fuse", () => {
  const src = `ks${process.pid}s`;
  const dst = `ks${process.pid}t`;
  const srcDs = `${src}/vm`;
  const dstDs = `${dst}/vm`;
  const stack = useZfsStack("kvmshare-sched-", [src, dst], (stateFile) => new Engine({ stateFile }));
  let root: string;
  const service = "kvmshare-syncoid-nightly.service";
  const timer = "kvmshare-syncoid-nightly.timer";

  const pools = () => {
    const s = new ZfsPool("src", { poolName: src, vdevs: [{ type: "disk", devices: [path.join(stack.dir, "s0")] }], fileSizeMiB: 256, mountpoint: path.join(stack.dir, "src"), allowDestroy: true });
    const t = new ZfsPool("dst", { poolName: dst, vdevs: [{ type: "disk", devices: [path.join(stack.dir, "t0")] }], fileSizeMiB: 256, mountpoint: path.join(stack.dir, "dst"), allowDestroy: true });
    const d = new ZfsDataset("vm", { pool: s, datasetName: srcDs });
    return { s, t, d };
  };
  const program = (extra: (p: ReturnType<typeof pools>) => void = () => undefined) => () => {
    const p = pools();
    new ZfsReplication(
      "nightly",
      { source: p.d, target: dstDs, scheduler: "syncoid", intervalMinutes: 15, backupWindow: { onlineHours: 8, workloadWeight: 0.5 }, root, activation: "enable" },
      { dependsOn: [p.t] },
    );
    extra(p);
  };

  /** Run the installed service's ExecStart (and ExecStartPost) by hand, as the timer would. */
  const runService = (unit: string) => {
    const text = fs.readFileSync(path.join(root, "etc/systemd/system", unit), "utf8");
    const r = spawnSync(execStartArgv(text)[0], execStartArgv(text).slice(1), { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
    const post = text.split("\n").find((l) => l.startsWith("ExecStartPost="));
    if (r.status === 0 && post) execFileSync(execStartArgv(post.replace("ExecStartPost=", "ExecStart="))[0], execStartArgv(post.replace("ExecStartPost=", "ExecStart=")).slice(1));
    return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
  };

  beforeAll(() => {
    fs.chmodSync(stack.dir, 0o700);
    root = path.join(stack.dir, "root");
    fs.mkdirSync(root);
  });

  it("sanoid on zfs-fuse is refused at preview, naming why (its zfs get has no -t)", async () => {
    let r = await stack.engine.up(() => void pools());
    expect(r.errors).toEqual([]);
    const p = await stack.engine.preview(() => {
      const { d } = pools();
      new ZfsSnapshotPolicy("hourly", { dataset: d, scheduler: "sanoid", root, activation: "enable" });
    });
    expect(p.errors.join("\n")).toMatch(/scheduler: sanoid lists snapshots with 'zfs get -Hrpt snapshot', which the ZFS on local refuses \(invalid option 't'\); sanoid would take every period's snapshot on each run and never prune\. Use OpenZFS on this host, or scheduler: "up"/);
    // nothing was installed
    expect(fs.existsSync(path.join(root, "etc/kvmshare"))).toBe(false);
    r = await stack.engine.up(() => void pools());
    expect(r.errors).toEqual([]);
  });

  it("the rendered sanoid.conf passes sanoid's own check; a broken one is refused", async () => {
    const plan = planSanoidPolicy(resolveZfsSnapshotPolicy("hourly", { dataset: srcDs, scheduler: "sanoid", hourly: 2, daily: 1 }));
    const host = new LocalHost();
    const out = await checkSanoidConfig(host, plan.files[plan.confPath]);
    // --readonly: sanoid shows what it would do and does nothing
    expect(out).toMatch(new RegExp(`taking snapshot ${srcDs}@autosnap_\\S+_hourly`));
    expect(snaps(srcDs)).toEqual([]);
    await expect(checkSanoidConfig(host, `[${srcDs}\n\thourly = 2\n`)).rejects.toThrow(/sanoid --readonly refused the candidate config \(exit 25\); nothing was installed:\n {2}FATAL: cannot load/);
  });

  it("syncoid timer: units verified and enabled, a full then an incremental run by hand, identical trees", async () => {
    const mnt = mountOf(srcDs);
    fs.writeFileSync(path.join(mnt, "disk.img"), crypto.randomBytes(4 * 1024 * 1024));
    fs.writeFileSync(path.join(mnt, "config"), "a=1\n");
    const r = await stack.engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.outputs["nightly-syncoid"].schedule).toEqual({ windowHours: 8, onCalendar: "*-*-* 00,01,02,03,04,05,22,23:00/15:00 UTC", runsPerDay: 32, rpoMinutes: 975 });
    expect(fs.readlinkSync(path.join(root, "etc/systemd/system/timers.target.wants", timer))).toBe(`/etc/systemd/system/${timer}`);
    expect(execFileSync("systemctl", [`--root=${root}`, "is-enabled", timer], { encoding: "utf8" }).trim()).toBe("enabled");

    let run = runService(service);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/Sending oldest full snapshot/);
    expect(tree(mountOf(dstDs))).toEqual(tree(mnt));
    expect(() => fs.writeFileSync(path.join(mountOf(dstDs), "probe"), "x")).toThrow(/EROFS|read-only/i);

    fs.writeFileSync(path.join(mnt, "more.bin"), crypto.randomBytes(2 * 1024 * 1024));
    fs.writeFileSync(path.join(mnt, "config"), "a=2\n");
    await new Promise((res) => setTimeout(res, 1100)); // syncoid's snapshot names have 1 s resolution
    run = runService(service);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/Sending incremental .*syncoid_nightly_/);
    // zfs-fuse shows received data after a remount
    retry("umount", () => execFileSync("zfs", ["umount", dstDs], { stdio: "pipe" }));
    expect(tree(mountOf(dstDs))).toEqual(tree(mnt));
    // syncoid keeps only its newest sync snapshot on each side
    expect(snaps(srcDs).filter((s) => s.startsWith("syncoid_nightly_"))).toHaveLength(1);
    expect(snaps(dstDs).filter((s) => s.startsWith("syncoid_nightly_"))).toEqual(snaps(srcDs).filter((s) => s.startsWith("syncoid_nightly_")));
    // second up: nothing to do
    const again = await stack.engine.up(program());
    expect(again.changes.map((s) => `${s.op} ${s.name}`)).toEqual([]);
  });

  it("a hand-disabled timer is drift in preview --refresh; the next up enables it again", async () => {
    execFileSync("systemctl", [`--root=${root}`, "disable", timer], { stdio: "ignore" });
    const p = await stack.engine.preview(program(), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.map((s) => `${s.op} ${s.name} ${s.diffs.join(",")}`)).toEqual([expect.stringMatching(/^update nightly-syncoid .*observed\.timer/)]);
    const r = await stack.engine.up(program());
    expect(r.errors).toEqual([]);
    expect(execFileSync("systemctl", [`--root=${root}`, "is-enabled", timer], { encoding: "utf8" }).trim()).toBe("enabled");
  });

  it("a target written to is never rolled back: syncoid --no-rollback fails, the change stays", async () => {
    execFileSync("zfs", ["set", "readonly=off", dstDs]);
    fs.writeFileSync(path.join(mountOf(dstDs), "local-only.txt"), "made on the backup\n");
    execFileSync("sync");
    fs.writeFileSync(path.join(mountOf(srcDs), "after.txt"), "new\n");
    await new Promise((res) => setTimeout(res, 1100));
    const run = runService(service);
    expect(run.code).not.toBe(0);
    expect(run.out).toMatch(/destination .*has been modified|CRITICAL ERROR/);
    expect(run.out).not.toMatch(/zfs rollback/);
    expect(fs.readFileSync(path.join(mountOf(dstDs), "local-only.txt"), "utf8")).toBe("made on the backup\n");
  });

  it("zfs-fuse cannot resume an interrupted receive: syncoid says so and replicates without resume", async () => {
    // put the target back the way replication left it (by hand: kvmshare never does this)
    const common = snaps(dstDs).filter((s) => s.startsWith("syncoid_nightly_")).pop()!;
    execFileSync("zfs", ["rollback", `${dstDs}@${common}`]);
    execFileSync("zfs", ["set", "readonly=on", dstDs]);
    await new Promise((res) => setTimeout(res, 1100));
    const run = runService(service);
    expect(run.out).toMatch(/WARN: ZFS resume feature not available on source and target machine/);
    expect(run.code).toBe(0);
  });

  it("restore drill passes as a component and as `kvmshare drill`, and finds a corrupted file", async () => {
    const mnt = mountOf(srcDs);
    // a file whose blocks can be found in the target's vdev (no compression)
    fs.writeFileSync(path.join(mnt, "marker.bin"), Buffer.alloc(256 * 1024, "KVMSHARE-DRILL-MARKER-"));
    await new Promise((res) => setTimeout(res, 1100));
    expect(runService(service).code).toBe(0);

    const stateDir = path.join(stack.dir, "drill");
    const r = await stack.engine.up(program((p) => void new ZfsRestoreDrill("weekly", { source: p.d, target: dstDs, stateDir, trigger: "1" })));
    expect(r.errors).toEqual([]);
    const result = r.outputs["weekly-drill"].lastResult as Record<string, unknown>;
    expect(result).toMatchObject({ match: true, mismatched: [], missing: [], extra: [], unreadable: [] });
    expect(result.snapshot).toMatch(/^syncoid_nightly_/);
    expect(Object.keys(tree(mnt))).toHaveLength(result.files as number);
    // the clones are gone
    expect(zfs("list", "-H", "-o", "name", "-r", src, dst)).not.toMatch(/kvmshare-drill/);

    const cli = (...args: string[]) => runCli(registerDrill, "drill", ...args);
    let c = await cli(srcDs, dstDs);
    expect(c.code).toBe(0);
    expect(c.out).toMatch(new RegExp(`^MATCH ${dstDs}@syncoid_nightly_\\S+ vs ${srcDs}@syncoid_nightly_\\S+: ${result.files} files, 0 differ, 0 missing, 0 extra, 0 unreadable`));

    // corrupt the marker file's blocks in the target pool's vdev, then re-import (drops the cache)
    retry("export", () => execFileSync("zpool", ["export", dst], { stdio: "pipe" }));
    const vdev = path.join(stack.dir, "t0");
    const hit = spawnSync("grep", ["-obUa", "-m1", "KVMSHARE-DRILL-MARKER-KVMSHARE-DRILL-MARKER-", vdev], { encoding: "utf8" });
    const offset = Number(hit.stdout.split(":")[0]);
    expect(offset).toBeGreaterThan(0);
    const fd = fs.openSync(vdev, "r+");
    fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, offset);
    fs.closeSync(fd);
    execFileSync("zpool", ["import", "-d", stack.dir, dst]);

    c = await cli(srcDs, dstDs, "--json");
    expect(c.code).toBe(1);
    const bad = JSON.parse(c.out);
    expect(bad.match).toBe(false);
    expect([...bad.mismatched, ...bad.unreadable]).toEqual([expect.stringMatching(/marker\.bin$/)]);
    expect(zfs("list", "-H", "-o", "name", "-r", src, dst)).not.toMatch(/kvmshare-drill/);

    // the component reports it too: a changed trigger runs it again, fails the up, and the kept result is drift
    const failed = await stack.engine.up(program((p) => void new ZfsRestoreDrill("weekly", { source: p.d, target: dstDs, stateDir, trigger: "2" })));
    expect(failed.errors.join("\n")).toMatch(/restore drill weekly: .* does NOT match .*marker\.bin/);
    const p = await stack.engine.preview(program((q) => void new ZfsRestoreDrill("weekly", { source: q.d, target: dstDs, stateDir, trigger: "2" })), { refresh: true });
    expect(p.changes.map((s) => `${s.name} ${s.diffs.join(",")}`).join("\n")).toMatch(/weekly-drill .*observed\.lastMatch/);
  });

  it("destroy disables the timer and removes the units; snapshots and datasets stay", async () => {
    const before = snaps(dstDs);
    const r = await stack.engine.up(() => void pools());
    expect(r.errors).toEqual([]);
    expect(fs.existsSync(path.join(root, "etc/systemd/system", service))).toBe(false);
    expect(fs.existsSync(path.join(root, "etc/systemd/system/timers.target.wants", timer))).toBe(false);
    expect(snaps(dstDs)).toEqual(before);
  });
});
