/**
 * ZfsPool and ZfsDataset against a real zfs-fuse, through the real engine (the CLI): create,
 * idempotence, read-back, validation and host-capability errors at preview, drift, and the
 * data-safety defaults (a pool is exported, never destroyed; a used device is refused).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { testEngine, TestEngine } from "../harness/testEngine";
import { acquireZfsFuse, destroyPoolIfPresent, ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS, ZfsFuseLease } from "../fixtures/zfsFuse";
import { requirePrograms } from "../requirePrograms";

const describe = requirePrograms([...ZFS_FUSE_PROGRAMS, "mkfs.ext4", "blkid"], ZFS_FUSE_REQUIREMENTS);

process.env.KVMSHARE_QUIET ??= "1";
jest.setTimeout(120_000);

const zfsGet = (prop: string, name: string) => execFileSync("zfs", ["get", "-Hp", "-o", "value", prop, name], { encoding: "utf8" }).trim();

describe("ZFS pool and datasets on zfs-fuse", () => {
  const pool = `ks${process.pid}p`;
  let lease: ZfsFuseLease;
  let dir: string;
  let engine: TestEngine;
  let devs: string[];
  let mnt: string;

  const program = (datasetProps: Record<string, string> = { compression: "gzip", atime: "off", recordsize: "64K", quota: "100M" }) => () => {
    const p = new ZfsPool("tank", { poolName: pool, vdevs: [{ type: "mirror", devices: devs }], fileSizeMiB: 128, mountpoint: mnt });
    new ZfsDataset("share", { pool: p, datasetName: `${pool}/share`, properties: datasetProps });
  };

  beforeAll(async () => {
    lease = await acquireZfsFuse();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-storage-"));
    devs = [path.join(dir, "d0"), path.join(dir, "d1")];
    mnt = path.join(dir, "mnt");
    engine = testEngine({ stateFile: path.join(dir, "state.json") });
  });

  afterAll(async () => {
    await destroyPoolIfPresent(pool, dir);
    await destroyPoolIfPresent(`${pool}x`, dir);
    fs.rmSync(dir, { recursive: true, force: true });
    await lease?.release();
  });

  it("mirror pool created and idempotent", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => `${s.op} ${s.name}`)).toEqual(["create tank-pool", "create share-dataset"]);
    const status = execFileSync("zpool", ["status", pool], { encoding: "utf8" });
    expect(status).toMatch(/mirror-0\s+ONLINE/);
    expect(status).toContain(devs[0]);
    expect(status).toContain(devs[1]);
    const out = r.outputs["tank-pool"];
    expect(out.health).toBe("ONLINE");
    expect(out.guid).toBe(execFileSync("zpool", ["get", "guid", pool], { encoding: "utf8" }).split("\n")[1].split(/\s+/)[2]);
    expect(out.sizeBytes as number).toBeGreaterThan(100 * 1024 * 1024);

    const again = await engine.up(program());
    expect(again.errors).toEqual([]);
    expect(again.changes).toEqual([]);
    const refreshed = await engine.preview(program(), { refresh: true });
    expect(refreshed.errors).toEqual([]);
    expect(refreshed.changes.filter((s) => s.op !== "refresh")).toEqual([]);
  });

  it("dataset properties read back from the host", async () => {
    const ds = `${pool}/share`;
    expect(zfsGet("compression", ds)).toBe("gzip");
    expect(zfsGet("atime", ds)).toBe("off");
    expect(zfsGet("recordsize", ds)).toBe(String(64 * 1024));
    expect(zfsGet("quota", ds)).toBe(String(100 * 1024 * 1024));
    expect(zfsGet("mountpoint", ds)).toBe(path.join(mnt, "share"));
    const out = engine.state().find((s) => s.name === "share-dataset")!.outputs;
    expect(out.observed).toMatchObject({ properties: { compression: "gzip", atime: "off", recordsize: "65536", quota: "104857600" } });
    expect(out.mountpoint).toBe(path.join(mnt, "share"));
  });

  it("hand-edited property reported as drift and put back by the next up", async () => {
    const ds = `${pool}/share`;
    execFileSync("zfs", ["set", "atime=on", ds]);
    const p = await engine.preview(program(), { refresh: true });
    expect(p.errors).toEqual([]);
    const upd = p.changes.find((s) => s.op === "update");
    expect(upd?.name).toBe("share-dataset");
    expect(upd?.diffs).toContain("spec.properties.atime");
    expect(zfsGet("atime", ds)).toBe("on"); // preview changed nothing
    const r = await engine.up(program(), { refresh: true });
    expect(r.errors).toEqual([]);
    expect(zfsGet("atime", ds)).toBe("off");
    const clean = await engine.preview(program(), { refresh: true });
    expect(clean.changes.filter((s) => s.op !== "refresh")).toEqual([]);
  });

  it("a property that leaves the program is inherited again; a changed one is set", async () => {
    const ds = `${pool}/share`;
    const r = await engine.up(program({ compression: "gzip-9", atime: "off", recordsize: "64K" }));
    expect(r.errors).toEqual([]);
    expect(zfsGet("compression", ds)).toBe("gzip-9");
    expect(zfsGet("quota", ds)).toBe("0");
    await engine.up(program());
    expect(zfsGet("quota", ds)).toBe(String(100 * 1024 * 1024));
  });

  it("the root directory's mode is set, a hand chmod is drift put back by the next up, and leaving the program leaves it", async () => {
    const withMode = (mode: string) => () => {
      const p = new ZfsPool("tank", { poolName: pool, vdevs: [{ type: "mirror", devices: devs }], fileSizeMiB: 128, mountpoint: mnt });
      new ZfsDataset("share", { pool: p, datasetName: `${pool}/share`, properties: { compression: "gzip", atime: "off", recordsize: "64K", quota: "100M" }, mode });
    };
    const root = path.join(mnt, "share");
    const modeOf = () => (fs.statSync(root).mode & 0o7777).toString(8).padStart(4, "0");
    const r = await engine.up(withMode("2770"));
    expect(r.errors).toEqual([]);
    expect(modeOf()).toBe("2770");
    expect(engine.state().find((s) => s.name === "share-dataset")!.outputs.observed).toMatchObject({ mode: "2770" });
    expect((await engine.up(withMode("2770"))).changes).toEqual([]);

    fs.chmodSync(root, 0o755); // clears setgid too
    const p = await engine.preview(withMode("2770"), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.find((s) => s.op === "update")?.diffs).toContain("spec.mode");
    expect(modeOf()).toBe("0755"); // preview changed nothing
    // A real preview stores nothing: the repair is an up that refreshes first.
    expect((await engine.up(withMode("2770"), { refresh: true })).errors).toEqual([]);
    expect(modeOf()).toBe("2770");

    // 0750 must clear setgid: GNU chmod keeps a directory's setgid unless told otherwise.
    expect((await engine.up(withMode("0750"))).errors).toEqual([]);
    expect(modeOf()).toBe("0750");
    expect((await engine.preview(withMode("0750"), { refresh: true })).changes.filter((s) => s.op !== "refresh")).toEqual([]);

    expect((await engine.up(program())).errors).toEqual([]);
    expect(modeOf()).toBe("0750");
    fs.chmodSync(root, 0o755);
  });

  it("a mode on a dataset ZFS does not mount is refused at preview, naming field, value and fix", async () => {
    const p = await engine.preview(() => {
      new ZfsDataset("unmounted", { datasetName: `${pool}/unmounted`, properties: { mountpoint: "none" }, mode: "0750" });
    });
    expect(p.errors.join("\n")).toMatch(/mode: needs the dataset mounted, but properties\.mountpoint is 'none': drop mode, or mount the dataset .*\(got '0750'\)/);
    expect(execFileSync("zfs", ["list", "-H", "-o", "name", "-r", pool], { encoding: "utf8" })).not.toContain("/unmounted");
  });

  it("bad property values refused at preview with the valid list, before anything changes", async () => {
    const p = await engine.preview(() => {
      new ZfsDataset("bad", { datasetName: `${pool}/bad`, properties: { sync: "async" as never, atime: "maybe" as never, recordsize: "100K", quota: "lots" } });
    });
    const text = p.errors.join("\n");
    expect(text).toMatch(/properties\.sync: sync must be one of standard, always, disabled \(got 'async'\)/);
    expect(text).toMatch(/properties\.atime: atime must be one of on, off \(got 'maybe'\)/);
    expect(text).toMatch(/properties\.recordsize: recordsize must be a power of two from 512 to 16M.*got '100K'/);
    expect(text).toMatch(/properties\.quota: quota must be a size.*'none' \(got 'lots'\)/);
    expect(execFileSync("zfs", ["list", "-H", "-o", "name", "-r", pool], { encoding: "utf8" })).not.toContain("/bad");
  });

  it("unsupported-on-this-ZFS reported at preview, naming field, value, host and fix", async () => {
    const p = await engine.preview(() => {
      new ZfsDataset("fast", { datasetName: `${pool}/fast`, properties: { compression: "lz4", sync: "disabled", recordsize: "1M", xattr: "sa" } });
    });
    const text = p.errors.join("\n");
    expect(text).toMatch(/properties\.compression: zfs-fuse 0\.7\.0 \(pool version 23\) on local does not support compression=lz4; needs OpenZFS .*use gzip.*\(got 'lz4'\)/);
    expect(text).toMatch(/properties\.sync: zfs-fuse .* does not support the sync property.*\(got 'disabled'\)/);
    expect(text).toMatch(/properties\.recordsize: .* does not support recordsize above 128K.*\(got '1M'\)/);
    expect(text).toMatch(/properties\.xattr: .* does not support xattr=sa/);
    expect(execFileSync("zfs", ["list", "-H", "-o", "name", "-r", pool], { encoding: "utf8" })).not.toContain("/fast");
  });

  it("a device that already carries a file system or another pool is refused", async () => {
    const ext = path.join(dir, "ext4.img");
    execFileSync("truncate", ["-s", "64M", ext]);
    execFileSync("mkfs.ext4", ["-q", "-L", "precious", ext]);
    const p = await engine.preview(() => {
      new ZfsPool("other", { poolName: `${pool}x`, vdevs: [{ type: "mirror", devices: [ext, devs[0]] }], mountpoint: "none" });
    });
    const text = p.errors.join("\n");
    expect(text).toMatch(/vdevs\[0\]\.devices\[0\]: already carries a ext4 file system labelled 'precious' on local; kvmshare never overwrites/);
    expect(text).toMatch(new RegExp(`vdevs\\[0\\]\\.devices\\[1\\]: already carries a ZFS pool \\('${pool}'\\)`));
    // and up refuses the same way without touching either device
    const r = await engine.up(() => {
      program()();
      new ZfsPool("other", { poolName: `${pool}x`, vdevs: [{ type: "disk", devices: [ext] }], mountpoint: "none" });
    });
    expect(r.errors.join("\n")).toMatch(/already carries a ext4 file system/);
    expect(execFileSync("blkid", ["-p", "-o", "value", "-s", "TYPE", ext], { encoding: "utf8" }).trim()).toBe("ext4");
    expect(engine.state().map((s) => s.name)).toEqual(["tank-pool", "share-dataset"]);
  });

  it("allowDestroy: false keeps the pool after destroy (exported, data intact, imported again by the next up)", async () => {
    const file = path.join(mnt, "share", "keep.txt");
    fs.writeFileSync(file, "precious data\n");
    const guid = engine.state().find((s) => s.name === "tank-pool")!.outputs.guid;
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(d.steps.map((s) => s.op)).toEqual(["delete", "delete"]);
    expect(engine.state()).toEqual([]);
    // not imported any more, but importable with the same guid
    expect(execFileSync("zpool", ["list", "-H", "-o", "name"], { encoding: "utf8" })).not.toContain(pool);
    const importable = execFileSync("zpool", ["import", "-d", dir], { encoding: "utf8" });
    expect(importable).toContain(`pool: ${pool}`);
    expect(importable).toContain(`id: ${guid}`);
    // the next up imports it instead of refusing or re-creating
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.op)).toEqual(["create", "create"]);
    expect(r.outputs["tank-pool"].guid).toBe(guid);
    expect(fs.readFileSync(file, "utf8")).toBe("precious data\n");
  });

  it("allowDestroy: true destroys the pool", async () => {
    const r = await engine.up(() => {
      const p = new ZfsPool("tank", { poolName: pool, vdevs: [{ type: "mirror", devices: devs }], fileSizeMiB: 128, mountpoint: mnt, allowDestroy: true });
      new ZfsDataset("share", { pool: p, datasetName: `${pool}/share`, properties: { compression: "gzip", atime: "off", recordsize: "64K", quota: "100M" }, allowDestroy: true });
    });
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.op)).toEqual(["update", "update"]);
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    // The pool is gone, and with it the file vdevs kvmshare made for it (fileSizeMiB).
    for (const dev of devs) expect(fs.existsSync(dev)).toBe(false);
    const left = spawnSync("zpool", ["import", "-d", dir], { encoding: "utf8" });
    expect(`${left.stdout}${left.stderr}`).not.toContain(`pool: ${pool}`);
  });
});
