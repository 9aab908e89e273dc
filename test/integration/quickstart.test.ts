/**
 * The quick-start stack (`npm run sandbox`): pool -> dataset -> NFS export -> guest unit ->
 * parallel transfer, through the in-process engine on real zfs-fuse, exportfs and systemd-analyze.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { quickstart } from "../../quickstart/stack";
import { Engine } from "../harness/engine";
import { acquireZfsFuse, destroyPoolIfPresent, ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS, ZfsFuseLease } from "./zfsFuse";
import { requirePrograms } from "../requirePrograms";

jest.setTimeout(180_000);
const d = requirePrograms([...ZFS_FUSE_PROGRAMS, "exportfs", "systemd-analyze"], ZFS_FUSE_REQUIREMENTS);

d("quick start: the whole path in a sandbox", () => {
  let dir: string;
  let zfs: ZfsFuseLease;
  let engine: Engine;
  const poolName = `ksq${process.pid}`;
  const program = () => () => {
    quickstart({ sandboxDir: dir, poolName });
  };
  const sha = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

  beforeAll(async () => {
    zfs = await acquireZfsFuse();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-quickstart-"));
    for (const sub of ["vdevs", "srv/share", "etc/exports.d", "guest"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.writeFileSync(path.join(dir, "source.bin"), crypto.randomBytes(9 * 1024 * 1024 + 7));
    engine = new Engine({ stateFile: path.join(dir, "state.json"), project: "kvmshare-quickstart" });
  });

  afterAll(async () => {
    try {
      await engine.destroy();
    } finally {
      await destroyPoolIfPresent(poolName, path.join(dir, "vdevs"));
      await zfs.release();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("up creates pool, dataset, export, guest unit and copies the file byte for byte", async () => {
    const t0 = Date.now();
    const r = await engine.up(program());
    console.log(`quick start up: ${Date.now() - t0} ms`);
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.type.split(":").pop())).toEqual(
      expect.arrayContaining(["ZfsPool", "ZfsDataset", "NfsExport", "GuestMount", "ParallelTransfer"]),
    );
    const copied = path.join(dir, "zfs/share/source.bin");
    expect(sha(copied)).toBe(sha(path.join(dir, "source.bin")));
    const exportsFile = fs.readdirSync(path.join(dir, "etc/exports.d"));
    expect(exportsFile).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, "etc/exports.d", exportsFile[0]), "utf8")).toContain(path.join(dir, "zfs/share"));
    expect(fs.existsSync(path.join(dir, "guest/etc/systemd/system/mnt-share.mount"))).toBe(true);
  });

  it("a second up changes nothing", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  });

  it("preview --refresh reports the export edited by hand, and up puts it back", async () => {
    const dirx = path.join(dir, "etc/exports.d");
    const f = path.join(dirx, fs.readdirSync(dirx)[0]);
    const good = fs.readFileSync(f, "utf8");
    fs.appendFileSync(f, "/tmp *(rw,no_root_squash)\n");
    const p = await engine.preview(program(), { refresh: true });
    expect(p.changes.filter((s) => s.op === "update").map((s) => s.name)).toEqual(["quickstart-export-export"]);
    await engine.up(program());
    expect(fs.readFileSync(f, "utf8")).toBe(good);
  });
});
