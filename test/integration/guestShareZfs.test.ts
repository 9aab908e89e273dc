/**
 * HostGuestShare on real ZFS (zfs-fuse): a pool and a dataset made by the program, exported over
 * NFS (exportfs-checked, sandboxed exports.d) to one guest, mounted by a verified unit in a
 * sandbox guest root. Proves the dataset's mountpoint output flows into the export and the
 * guest's unit, and that a second up is a no-op.
 */
import * as fs from "fs";
import * as path from "path";
import { ZfsPool } from "../../components/storage";
import { HostGuestShare } from "../../components/share";
import { ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS } from "../fixtures/zfsFuse";
import { useZfsStack } from "../harness/stack";
import { requirePrograms } from "../requirePrograms";

process.env.KVMSHARE_QUIET = "1";
jest.setTimeout(180_000);
const describe = requirePrograms([...ZFS_FUSE_PROGRAMS, "exportfs", "systemd-analyze"], ZFS_FUSE_REQUIREMENTS);

describe("HostGuestShare: zfs-fuse dataset -> NFS export -> guest unit", () => {
  const pool = `ksg${process.pid % 100000}`;
  const stack = useZfsStack("ks-guest-zfs-", [pool]);

  const program = () => {
    const p = new ZfsPool("tank", {
      poolName: pool,
      vdevs: [{ type: "disk", devices: [path.join(stack.dir, "vdev")] }],
      fileSizeMiB: 256,
      mountpoint: path.join(stack.dir, "mnt"),
      allowDestroy: true,
    });
    new HostGuestShare("vmshare", {
      protocol: "nfs",
      dataset: { pool: p, datasetName: `${pool}/vmshare`, properties: { atime: "off", compression: "gzip" }, allowDestroy: true },
      serverAddress: "192.168.122.1",
      guest: { address: "192.168.122.10", mountPoint: "/mnt/vmshare", mount: { root: path.join(stack.dir, "guest"), activation: "enable" } },
      nfs: { export: { fsid: 7, exportsDir: path.join(stack.dir, "exports.d"), kernel: { mainExportsFile: "", etabPath: "" }, reloadCommand: ["true"] } },
    });
  };

  it("up creates pool, dataset, export and guest unit wired by the dataset's mountpoint", async () => {
    const t0 = Date.now();
    const r = await stack.engine.up(program);
    const ms = Date.now() - t0;
    expect(r.errors).toEqual([]);
    expect(r.changes.map((c) => `${c.op} ${c.name}`)).toEqual([
      "create tank-pool",
      "create vmshare-dataset-dataset",
      "create vmshare-export-export",
      "create vmshare-guest-mount",
    ]);
    const mnt = path.join(stack.dir, "mnt", "vmshare");
    expect(fs.statSync(mnt).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(stack.dir, "exports.d/vmshare-export.exports"), "utf8")).toContain(`"${mnt}" 192.168.122.10(rw,`);
    const unit = fs.readFileSync(path.join(stack.dir, "guest/etc/systemd/system/mnt-vmshare.mount"), "utf8");
    expect(unit).toContain(`What=192.168.122.1:${mnt}`);
    expect(unit).toContain("Options=vers=4.2,nconnect=4,hard,timeo=600,retrans=2,sec=sys");
    process.stdout.write(`HostGuestShare zfs-fuse pool + dataset + NFS export + guest unit: ${ms} ms\n`);
  });

  it("a second up changes nothing", async () => {
    const r = await stack.engine.up(program);
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  });

  it("destroy removes the guest unit and the export (pool and dataset only because allowDestroy)", async () => {
    const d = await stack.engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(path.join(stack.dir, "guest/etc/systemd/system/mnt-vmshare.mount"))).toBe(false);
    expect(fs.existsSync(path.join(stack.dir, "exports.d/vmshare-export.exports"))).toBe(false);
  });
});
