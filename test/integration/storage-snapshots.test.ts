/**
 * ZfsSnapshotPolicy on a real zfs-fuse, through the real engine (the CLI): one snapshot per up,
 * retention by count, and only the policy's own snapshots are ever pruned.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { ZfsSnapshotPolicy } from "../../components/protection";
import { ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS } from "../fixtures/zfsFuse";
import { useZfsStack } from "../harness/stack";
import { requirePrograms } from "../requirePrograms";

const describe = requirePrograms([...ZFS_FUSE_PROGRAMS], ZFS_FUSE_REQUIREMENTS);

process.env.KVMSHARE_QUIET ??= "1";
jest.setTimeout(180_000);

const snapshots = (ds: string): string[] =>
  execFileSync("zfs", ["list", "-H", "-t", "snapshot", "-o", "name", "-r", "-d", "1", ds], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((n) => n.slice(ds.length + 1));

describe("ZFS snapshot policy on zfs-fuse", () => {
  const pool = `ks${process.pid}s`;
  const ds = `${pool}/data`;
  const stack = useZfsStack("kvmshare-snap-", [pool]);

  const program = (policy: { keep?: number; intervalMinutes?: number; allowDestroy?: boolean } = {}) => () => {
    const p = new ZfsPool("pool", { poolName: pool, vdevs: [{ type: "disk", devices: [path.join(stack.dir, "d0")] }], fileSizeMiB: 128, mountpoint: path.join(stack.dir, "mnt"), allowDestroy: true });
    const d = new ZfsDataset("data", { pool: p, datasetName: ds });
    new ZfsSnapshotPolicy("daily", { dataset: d, keep: policy.keep ?? 2, intervalMinutes: policy.intervalMinutes, allowDestroy: policy.allowDestroy });
  };

  it("takes a marked snapshot on the first up", async () => {
    const r = await stack.engine.up(program());
    expect(r.errors).toEqual([]);
    const own = snapshots(ds).filter((s) => s.startsWith("kvmshare-daily-"));
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(/^kvmshare-daily-\d{8}T\d{6}Z$/);
    const marker = execFileSync("zfs", ["get", "-H", "-o", "value,source", "kvmshare:policy", `${ds}@${own[0]}`], { encoding: "utf8" }).trim();
    expect(marker).toBe("daily\tlocal");
    expect(r.outputs["daily-policy"].latestSnapshot).toBe(`${ds}@${own[0]}`);
  });

  it("snapshot retention prunes only its own", async () => {
    // Snapshots the policy did not take: by hand, with its prefix but no marker, and ones that
    // inherit the marker from the dataset (source 'inherited', not 'local').
    execFileSync("zfs", ["snapshot", `${ds}@manual-before-upgrade`]);
    execFileSync("zfs", ["snapshot", `${ds}@kvmshare-daily-19990101T000000Z`]);
    execFileSync("zfs", ["snapshot", "-o", "kvmshare:policy=other", `${ds}@kvmshare-daily-20000101T000000Z`]);
    execFileSync("zfs", ["set", "kvmshare:policy=daily", ds]);
    execFileSync("zfs", ["snapshot", `${ds}@kvmshare-daily-20010101T000000Z`]);
    const foreign = ["manual-before-upgrade", "kvmshare-daily-19990101T000000Z", "kvmshare-daily-20000101T000000Z", "kvmshare-daily-20010101T000000Z"];

    for (let i = 0; i < 3; i++) {
      const r = await stack.engine.up(program());
      expect(r.errors).toEqual([]);
      expect(r.changes.map((s) => `${s.op} ${s.name}`)).toEqual(["update daily-policy"]);
    }
    const all = snapshots(ds);
    const own = all.filter((s) => !foreign.includes(s));
    expect(own).toHaveLength(2); // keep: 2, after 4 snapshots taken in all
    for (const f of foreign) expect(all).toContain(f);
    expect(stack.engine.state().find((s) => s.name === "daily-policy")!.outputs.snapshotCount).toBe(2);
  });

  it("with an interval, an up before it is due changes nothing (and preview --refresh is quiet)", async () => {
    const before = snapshots(ds);
    const r = await stack.engine.up(program({ intervalMinutes: 60 }));
    expect(r.errors).toEqual([]);
    // the spec changed (interval), so this up updates, but no snapshot is due yet
    expect(snapshots(ds)).toEqual(before);
    const again = await stack.engine.preview(program({ intervalMinutes: 60 }), { refresh: true });
    expect(again.errors).toEqual([]);
    expect(again.changes.filter((s) => s.op !== "refresh")).toEqual([]);
  });

  it("a policy removed without allowDestroy leaves its snapshots", async () => {
    const before = snapshots(ds);
    const r = await stack.engine.up(() => {
      const p = new ZfsPool("pool", { poolName: pool, vdevs: [{ type: "disk", devices: [path.join(stack.dir, "d0")] }], fileSizeMiB: 128, mountpoint: path.join(stack.dir, "mnt"), allowDestroy: true });
      new ZfsDataset("data", { pool: p, datasetName: ds });
    });
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => `${s.op} ${s.name}`)).toEqual(["delete daily-policy"]);
    expect(snapshots(ds)).toEqual(before);
  });
});
