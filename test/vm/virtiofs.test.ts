/**
 * VM lane: a ZFS dataset on this machine (zfs-fuse, created by ZfsPool + ZfsDataset through the
 * engine) passed through to a real guest with virtiofsd, mounted in the guest by a GuestMount
 * unit; written on one side and read on the other, copied into by the transfer engine over
 * SSH, drift on the unit, destroy leaving the data.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { GuestMount } from "../../components/guest";
import { copy } from "../../transfer";
import { Engine } from "../harness/engine";
import { acquireZfsFuse, destroyPoolIfPresent, ZfsFuseLease } from "../integration/zfsFuse";
import { describeVm, scenario, useGuest } from "./lane";

process.env.KVMSHARE_QUIET ??= "1";

const TAG = "kvmshare-data";

/** PIDs (with their command) whose mount table still shows the pool. */
function holders(pool: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8").includes(pool)) {
        found.push(`${pid} (${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim().slice(0, 80)})`);
      }
    } catch {
      /* gone */
    }
  }
  return found;
}
const WHERE = "/mnt/host-data";

describeVm("VM lane: virtiofs passthrough of a zfs-fuse dataset", () => {
  const pool = `ksvm${process.pid}`;
  // Created when the guest boots (not when a skipped lane is only collected).
  const dir = path.join(os.tmpdir(), `kvmshare-vm-vfs-${process.pid}`);
  let hostEngine!: Engine;
  let guestEngine!: Engine;
  const mnt = path.join(dir, "mnt");
  const shared = path.join(mnt, "share");
  let lease: ZfsFuseLease | undefined;

  const storage = () => () => {
    const p = new ZfsPool("tank", {
      poolName: pool,
      vdevs: [{ type: "mirror", devices: [path.join(dir, "d0"), path.join(dir, "d1")] }],
      fileSizeMiB: 128,
      mountpoint: mnt,
    });
    new ZfsDataset("share", { pool: p, datasetName: `${pool}/share`, properties: { compression: "gzip", atime: "off" } });
  };

  const lane = useGuest(
    "virtiofs.test.ts",
    "base",
    async () => {
      fs.mkdirSync(dir, { recursive: true });
      hostEngine = new Engine({ stateFile: path.join(dir, "host-state.json") });
      guestEngine = new Engine({ stateFile: path.join(dir, "guest-state.json") });
      lease = await acquireZfsFuse();
      const r = await hostEngine.up(storage());
      if (r.errors.length) throw new Error(`ZfsPool/ZfsDataset on zfs-fuse failed:\n${r.errors.join("\n")}`);
      return { shares: [{ source: shared, tag: TAG }] };
    },
    async () => {
      lane.log(`destroying the test pool ${pool}`);
      try {
        await destroyPoolIfPresent(pool, dir);
      } catch (e) {
        // A FUSE mount is copied into every mount namespace created while it exists (ip netns
        // exec, unshare -m): a process started there by a concurrent test keeps the pool busy.
        throw new Error(`${(e as Error).message}; processes in other mount namespaces holding it: ${holders(pool).join(", ") || "none found"}`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      await lease?.release();
    },
  );

  const mount = (extra: Record<string, unknown> = {}) => () => {
    new GuestMount("data", { connection: lane.guest.connection, where: WHERE, virtiofs: { tag: TAG }, ...extra });
  };

  scenario(lane, "virtiofs: a GuestMount unit mounts the dataset; written on one side, read on the other", async () => {
    const { host } = lane.guest;
    expect((fs.readFileSync("/proc/self/mountinfo", "utf8").match(new RegExp(` ${shared} .* - fuse`)) ?? []).length).toBe(1);
    const up = await guestEngine.up(mount());
    expect(up.errors).toEqual([]);
    expect(up.changes.map((s) => s.op)).toEqual(["create"]);
    expect((await host.run(["systemctl", "is-active", "mnt-host\\x2ddata.mount"])).stdout.trim()).toBe("active");
    expect((await host.run(["findmnt", "-n", "-o", "FSTYPE,SOURCE", WHERE])).stdout.trim()).toMatch(new RegExp(`^virtiofs\\s+${TAG}$`));

    // host -> guest
    const fromHost = crypto.randomBytes(3 * 2 ** 20);
    fs.writeFileSync(path.join(shared, "from-host.bin"), fromHost);
    const inGuest = (await host.run(["sha256sum", `${WHERE}/from-host.bin`])).stdout.split(" ")[0];
    expect(inGuest).toBe(crypto.createHash("sha256").update(fromHost).digest("hex"));

    // guest -> host (the bytes land in the ZFS dataset)
    await host.run(["dd", "if=/dev/urandom", `of=${WHERE}/from-guest.bin`, "bs=1M", "count=4", "conv=fsync", "status=none"]);
    const guestSum = (await host.run(["sha256sum", `${WHERE}/from-guest.bin`])).stdout.split(" ")[0];
    const onHost = fs.readFileSync(path.join(shared, "from-guest.bin"));
    expect(onHost.length).toBe(4 * 2 ** 20);
    expect(crypto.createHash("sha256").update(onHost).digest("hex")).toBe(guestSum);

    expect((await guestEngine.up(mount())).changes).toEqual([]);
  });

  scenario(lane, "transfer: the copy engine writes into the guest's virtiofs mount over SSH; the dataset holds identical bytes", async () => {
    const src = path.join(dir, "payload.bin");
    const data = crypto.randomBytes(12 * 2 ** 20);
    fs.writeFileSync(src, data);
    await lane.guest.host.run(["mkdir", "-p", `${WHERE}/incoming`]);
    const r = await copy(src, { kind: "ssh", connection: lane.guest.connection, path: `${WHERE}/incoming/payload.bin` }, { streams: 2, chunkSize: 4 * 2 ** 20 });
    expect(r.bytes).toBe(data.length);
    const landed = fs.readFileSync(path.join(shared, "incoming", "payload.bin"));
    expect(landed.equals(data)).toBe(true);
    expect(fs.readdirSync(path.join(shared, "incoming")).filter((f) => f.includes(".part"))).toEqual([]);
  });

  scenario(lane, "virtiofs: a mount unit edited by hand is drift; destroy unmounts and leaves the data", async () => {
    const { host } = lane.guest;
    const unitPath = "/etc/systemd/system/mnt-host\\x2ddata.mount";
    const unit = await host.readFile(unitPath);
    expect(unit).toMatch(/^What=kvmshare-data$/m);
    await host.writeFileAtomic(unitPath, unit!.replace(/^\[Mount\]$/m, "[Mount]\nDirectoryMode=0700"));
    const p = await guestEngine.preview(mount(), { refresh: true });
    expect(p.changes.filter((s) => s.op === "update").map((s) => s.name)).toEqual(["data-mount"]);
    const up = await guestEngine.up(mount());
    expect(up.errors).toEqual([]);
    expect(await host.readFile(unitPath)).toBe(unit);

    const d = await guestEngine.destroy();
    expect(d.errors).toEqual([]);
    expect((await host.run(["findmnt", "-n", WHERE], { check: false })).code).not.toBe(0);
    expect(await host.readFile(unitPath)).toBeUndefined();
    expect(fs.existsSync(path.join(shared, "from-guest.bin"))).toBe(true);
  });
});
