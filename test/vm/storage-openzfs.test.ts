/**
 * VM lane: the storage components on real OpenZFS 2.1 (a Debian guest under TCG), over SSH,
 * through the in-process engine. What zfs-fuse cannot show: detection of OpenZFS, lz4,
 * recordsize=1M, sync, acltype=posix + ACL entries, exact sizes (`-p`), `zfs send -nvP`
 * estimates, resumable receive (`-s` and resuming an interrupted one), divergence found by the
 * `written` property before anything moves, and a relay between two SSH channels.
 */
import { Host } from "../../core/connection";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { ZfsReplication, ZfsSnapshotPolicy } from "../../components/protection";
import { NfsExport } from "../../components/nfs";
import { GuestMount } from "../../components/guest";
import { Engine } from "../harness/engine";
import * as path from "path";
import { describeVm, scenario, useGuest } from "./lane";
import { treeSums, useStack } from "./stack";
import { vmRelease } from "./image";

const A = "/dev/disk/by-id/virtio-kvmshare-za";
const B = "/dev/disk/by-id/virtio-kvmshare-zb";
const C = "/dev/disk/by-id/virtio-kvmshare-zc";
const D = "/dev/disk/by-id/virtio-kvmshare-zd";

async function get(host: Host, prop: string, name: string): Promise<string> {
  return (await host.run(["zfs", "get", "-Hp", "-o", "value", prop, name])).stdout.trim();
}

describeVm("VM lane: ZFS storage on OpenZFS (2.1 on Debian 12, 2.3 on Debian 13)", () => {
  const lane = useGuest("storage-openzfs.test.ts", "openzfs", () => ({
    disks: ["za", "zb", "zc", "zd"].map((name) => ({ name, sizeMiB: 512 })),
  }));
  const state = useStack("kvmshare-vm-zfs-");

  const storage = (over: { sync?: "standard" | "always" | "disabled"; repl?: Record<string, unknown> } = {}) => () => {
    const { connection } = lane.guest;
    const tank = new ZfsPool("tank", { connection, vdevs: [{ type: "mirror", devices: [A, B] }, { type: "mirror", devices: [C, D] }], ashift: 12, properties: { autotrim: "on" }, mountpoint: "/tank" });
    const backup = new ZfsPool("backup", { connection, vdevs: [{ type: "disk", devices: ["/var/tmp/backup0.img"] }], fileSizeMiB: 768, mountpoint: "/backup" });
    const share = new ZfsDataset("share", {
      pool: tank,
      datasetName: "tank/share",
      properties: { compression: "lz4", recordsize: "1M", sync: over.sync ?? "disabled", atime: "off", acltype: "posix", xattr: "sa", quota: "400M" },
      acl: ["u:nobody:rwx", "d:u:nobody:rwx"],
    });
    new ZfsSnapshotPolicy("hourly", { dataset: share, keep: 2 });
    if (over.repl) {
      new ZfsReplication("offsite", { source: share, target: "backup/share", targetConnection: connection, ...over.repl }, { dependsOn: [backup] });
    }
  };

  scenario(lane, "OpenZFS detected: mirror of mirrors (striped) on virtio disks by id, lz4 + 1M records + sync + posix ACLs applied, read back, idempotent", async () => {
    const { host } = lane.guest;
    expect((await host.run(["zfs", "version"])).stdout).toMatch(vmRelease() === "trixie" ? /^zfs-2\.3/ : /^zfs-2\.1/);
    const r = await state.engine.up(storage());
    expect(r.errors).toEqual([]);
    // the two pools are independent, so the engine creates them in either order
    expect(r.changes.map((s) => `${s.op} ${s.name}`).sort()).toEqual(["create backup-pool", "create hourly-policy", "create share-dataset", "create tank-pool"]);
    const pool = r.outputs["tank-pool"];
    expect(pool.health).toBe("ONLINE");
    // exact bytes from `zpool get -Hp` (zfs-fuse can only give rounded sizes)
    expect(String(pool.sizeBytes)).toBe((await host.run(["zpool", "get", "-Hp", "-o", "value", "size", "tank"])).stdout.trim());
    expect((await host.run(["zpool", "status", "tank"])).stdout).toMatch(
      /mirror-0\s+ONLINE[\s\S]*virtio-kvmshare-za[\s\S]*virtio-kvmshare-zb[\s\S]*mirror-1\s+ONLINE[\s\S]*virtio-kvmshare-zc[\s\S]*virtio-kvmshare-zd/,
    );
    expect((await host.run(["zpool", "get", "-H", "-o", "value", "ashift", "tank"])).stdout.trim()).toBe("12");
    expect(await get(host, "compression", "tank/share")).toBe("lz4");
    expect(await get(host, "recordsize", "tank/share")).toBe("1048576");
    expect(await get(host, "sync", "tank/share")).toBe("disabled");
    expect(await get(host, "acltype", "tank/share")).toBe("posix");
    expect(await get(host, "xattr", "tank/share")).toBe("sa");
    const acl = (await host.run(["getfacl", "--omit-header", "--absolute-names", "/tank/share"])).stdout;
    expect(acl).toMatch(/^user:nobody:rwx$/m);
    expect(acl).toMatch(/^default:user:nobody:rwx$/m);
    const again = await state.engine.up(storage());
    expect(again.errors).toEqual([]);
    // the snapshot policy takes one on every up (no interval); nothing else changes
    expect(again.changes.map((s) => `${s.op} ${s.name}`)).toEqual(["update hourly-policy"]);
  });

  scenario(lane, "sync changed by hand is drift and is put back", async () => {
    const { host } = lane.guest;
    await host.run(["zfs", "set", "sync=always", "tank/share"]);
    const p = await state.engine.preview(storage(), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.find((s) => s.name === "share-dataset")?.diffs).toContain("observed.properties.sync");
    const r = await state.engine.up(storage());
    expect(r.errors).toEqual([]);
    expect(await get(host, "sync", "tank/share")).toBe("disabled");
  });

  scenario(lane, "replication: dry-run estimate (logicalreferenced, then written@base) and receive -s, full + incremental between two SSH channels, identical content", async () => {
    const { host } = lane.guest;
    await host.run(["dd", "if=/dev/urandom", "of=/tank/share/disk.img", "bs=1M", "count=24", "conv=fsync", "status=none"]);
    await host.run(["sh", "-c", "mkdir -p /tank/share/etc && echo a=1 > /tank/share/etc/config && sync"]);
    let r = await state.engine.up(storage({ repl: { dryRun: true } }));
    expect(r.errors).toEqual([]);
    const plan = r.outputs["offsite-replication"].plan as Record<string, unknown>;
    expect(plan.mode).toBe("full");
    expect(plan.receive).toEqual(["zfs", "receive", "-s", "backup/share"]);
    expect(plan.estimateMethod).toMatch(/^logicalreferenced of tank\/share/);
    expect(plan.estimatedBytes as number).toBeGreaterThan(20 * 1024 * 1024);
    expect((await host.run(["zfs", "list", "-H", "-o", "name", "-r", "backup"])).stdout).not.toContain("backup/share");

    r = await state.engine.up(storage({ repl: {} }));
    expect(r.errors).toEqual([]);
    await host.run(["sh", "-c", "echo a=2 > /tank/share/etc/config && dd if=/dev/urandom of=/tank/share/more.bin bs=1M count=4 status=none && sync"]);
    r = await state.engine.up(storage({ repl: {} }));
    expect(r.errors).toEqual([]);
    expect(r.outputs["offsite-replication"].inSync).toBe(true);
    expect(await treeSums(host, "/backup/share")).toBe(await treeSums(host, "/tank/share"));
    expect(await get(host, "readonly", "backup/share")).toBe("on");
    // a dry run now plans an incremental with a real send -nvP estimate
    r = await state.engine.up(storage({ repl: { dryRun: true } }));
    const inc = r.outputs["offsite-replication"].plan as Record<string, unknown>;
    expect(inc.mode).toBe("incremental");
    expect(inc.estimateMethod).toMatch(/^written@kvmshare-repl-offsite-.* \(bytes changed since the base\)$/);
  });

  scenario(lane, "a target written to since the common snapshot is refused before anything is taken or sent (written property)", async () => {
    const { host } = lane.guest;
    await host.run(["zfs", "set", "readonly=off", "backup/share"]);
    await host.run(["sh", "-c", "echo local > /backup/share/local-only.txt && sync"]);
    const before = (await host.run(["zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-r", "tank/share"])).stdout;
    const r = await state.engine.up(storage({ repl: {} }));
    expect(r.errors.join("\n")).toMatch(/target: backup\/share on root@127\.0\.0\.1:\d+ has diverged from tank\/share .*it was written to \(\d+ bytes\) since the common @kvmshare-repl-offsite-.*Nothing was sent or destroyed/);
    expect((await host.run(["cat", "/backup/share/local-only.txt"])).stdout).toBe("local\n");
    // only the snapshot policy (which runs on every up) added a snapshot; replication took none
    const after = (await host.run(["zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-r", "tank/share"])).stdout;
    expect(after.split("\n").filter((l) => l.includes("kvmshare-repl-"))).toEqual(before.split("\n").filter((l) => l.includes("kvmshare-repl-")));
  });

  scenario(lane, "an interrupted resumable receive is resumed, then the increment follows", async () => {
    const { host } = lane.guest;
    await host.run(["zfs", "snapshot", "tank/share@by-hand"]);
    // cut the stream after 1 MiB: the target keeps a resume token
    await host.run(["sh", "-c", "zfs send tank/share@by-hand | head -c 1048576 | zfs receive -s backup/resumed; true"]);
    expect(await get(host, "receive_resume_token", "backup/resumed")).toMatch(/^[0-9a-f-]{20,}/);
    const r = await state.engine.up(() => {
      storage()();
      new ZfsReplication("resume", { connection: lane.guest.connection, source: "tank/share", target: "backup/resumed", targetConnection: lane.guest.connection });
    });
    expect(r.errors).toEqual([]);
    expect(await get(host, "receive_resume_token", "backup/resumed")).toBe("-");
    const snaps = (await host.run(["zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-r", "backup/resumed"])).stdout;
    expect(snaps).toContain("backup/resumed@by-hand");
    expect(snaps).toMatch(/backup\/resumed@kvmshare-repl-resume-/);
    expect(await treeSums(host, "/backup/resumed")).toBe(await treeSums(host, "/tank/share"));
  });

  scenario(lane, "destroy without allowDestroy exports the pools and leaves datasets and snapshots", async () => {
    const { host } = lane.guest;
    const d = await state.engine.destroy();
    expect(d.errors).toEqual([]);
    expect((await host.run(["zpool", "list", "-H", "-o", "name"], { check: false })).stdout).not.toMatch(/tank|backup/);
    const imp = (await host.run(["zpool", "import"], { check: false })).stdout;
    expect(imp).toMatch(/pool: tank/);
    await host.run(["zpool", "import", "tank"]);
    expect((await host.run(["zfs", "list", "-H", "-t", "all", "-o", "name", "-r", "tank"])).stdout).toMatch(/tank\/share@kvmshare-hourly-/);
  });

  scenario(lane, "retention kept only 2 of its own snapshots and never touched a snapshot taken by hand", async () => {
    const { host } = lane.guest;
    const snaps = (await host.run(["zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-r", "tank/share"])).stdout.trim().split("\n");
    const own = snaps.filter((n) => n.startsWith("tank/share@kvmshare-hourly-"));
    // Many ups ran above, each taking one: pruning is what keeps the count at `keep`.
    expect(own.length).toBeGreaterThanOrEqual(1);
    expect(own.length).toBeLessThanOrEqual(2);
    expect(snaps).toContain("tank/share@by-hand");
  });

  scenario(lane, "an OpenZFS dataset exported by the kernel NFS server and mounted back in the guest (NFSv4.2): round trip lands in the dataset", async () => {
    const { host, connection } = lane.guest;
    const nfsEngine = new Engine({ stateFile: path.join(state.dir, "nfs-state.json") });
    const program = () => {
      const exp = new NfsExport("zshare", { connection, path: "/tank/share", clients: ["127.0.0.1"], access: "rw" });
      new GuestMount("zshare", { connection, where: "/mnt/zfs-nfs", nfs: { server: "127.0.0.1", exportPath: "/tank/share", version: "4.2", nconnect: 2 } }, { dependsOn: [exp] });
    };
    await host.run(["mkdir", "-p", "/etc/exports.d"]);
    const up = await nfsEngine.up(program);
    expect(up.errors).toEqual([]);
    expect((await host.run(["findmnt", "-n", "-o", "FSTYPE,OPTIONS", "/mnt/zfs-nfs"])).stdout).toMatch(/^nfs4\s.*vers=4\.2/);
    // root is squashed to nobody, whom the dataset's ACL (u:nobody:rwx) lets in.
    await host.run(["dd", "if=/dev/urandom", "of=/mnt/zfs-nfs/over-nfs.bin", "bs=1M", "count=6", "conv=fsync", "status=none"]);
    const sum = async (f: string) => (await host.run(["sha256sum", f])).stdout.split(" ")[0];
    const want = await sum("/mnt/zfs-nfs/over-nfs.bin");
    expect(await sum("/tank/share/over-nfs.bin")).toBe(want);
    expect((await host.run(["stat", "-c", "%u", "/tank/share/over-nfs.bin"])).stdout.trim()).toBe("65534");
    // It is in the dataset: a snapshot taken now holds it.
    await host.run(["zfs", "snapshot", "tank/share@after-nfs"]);
    expect(await sum("/tank/share/.zfs/snapshot/after-nfs/over-nfs.bin")).toBe(want);
    const d = await nfsEngine.destroy();
    expect(d.errors).toEqual([]);
    expect((await host.run(["findmnt", "-n", "/mnt/zfs-nfs"], { check: false })).code).not.toBe(0);
    expect((await host.run(["exportfs", "-v"])).stdout).not.toContain("/tank/share");
  });
});
