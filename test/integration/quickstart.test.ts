/**
 * The quick-start stack (`npm run sandbox`): pool -> dataset -> NFS export -> guest unit ->
 * parallel transfer, through the REAL Pulumi engine (the CLI, Automation API) on real zfs-fuse,
 * exportfs and systemd-analyze: up, preview --refresh --expect-no-changes, a hand edit that
 * preview reports by field, up --refresh that repairs it, destroy that leaves the host as before.
 */
import * as crypto from "crypto";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RealEngine, requirePulumiCli } from "../harness/realEngine";
import { acquireZfsFuse, tearDownStack, ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS, ZfsFuseLease } from "../fixtures/zfsFuse";
import { requirePrograms } from "../requirePrograms";

jest.setTimeout(600_000);
const ROOT = path.resolve(__dirname, "../..");
const describe = requirePrograms([...ZFS_FUSE_PROGRAMS, "exportfs", "systemd-analyze", "pulumi"], ZFS_FUSE_REQUIREMENTS);

describe("quick start through the real Pulumi engine: the whole path in a sandbox", () => {
  let dir: string;
  let zfs: ZfsFuseLease;
  let engine: RealEngine;
  const poolName = `ksq${process.pid}`;
  const sha = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");
  const readme = () => path.join(dir, "README.kvmshare");

  beforeAll(async () => {
    requirePulumiCli();
    zfs = await acquireZfsFuse();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-quickstart-"));
    for (const sub of ["vdevs", "srv/share", "etc/exports.d", "guest"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.writeFileSync(path.join(dir, "source.bin"), crypto.randomBytes(9 * 1024 * 1024 + 7));
    engine = new RealEngine({ workDir: ROOT, stack: `qs${process.pid}`, config: { sandboxDir: dir, poolName, withZfs: "true" } });
  });

  afterAll(() => tearDownStack({ destroy: () => engine.destroy(), engine, pool: poolName, vdevDir: path.join(dir, "vdevs"), lease: zfs, dir }));

  it("pulumi up creates pool, dataset, export, guest unit and copies the file byte for byte", async () => {
    const t0 = Date.now();
    const r = await engine.up();
    console.log(`quick start, real engine: up of ${r.changes.length} resources in ${Date.now() - t0} ms`);
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => s.type.split(":").pop())).toEqual(
      expect.arrayContaining(["ZfsPool", "ZfsDataset", "NfsExport", "GuestMount", "ParallelTransfer", "ManagedFile"]),
    );
    expect(r.changes.every((s) => s.op === "create")).toBe(true);
    expect(sha(path.join(dir, "zfs/share/source.bin"))).toBe(sha(path.join(dir, "source.bin")));
    const exportsFile = fs.readdirSync(path.join(dir, "etc/exports.d"));
    expect(exportsFile).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, "etc/exports.d", exportsFile[0]), "utf8")).toContain(path.join(dir, "zfs/share"));
    expect(fs.existsSync(path.join(dir, "guest/etc/systemd/system/mnt-share.mount"))).toBe(true);
  });

  it("preview --refresh --expect-no-changes passes, and a second up changes nothing", async () => {
    const p = await engine.preview({ refresh: true, expectNoChanges: true });
    expect(p.errors).toEqual([]);
    const t0 = Date.now();
    const r = await engine.up();
    const ms = Date.now() - t0;
    console.log(`quick start, real engine: no-change up of ${r.steps.length} resources in ${ms} ms (${Math.round(ms / r.steps.length)} ms per resource)`);
    expect(r.errors).toEqual([]);
    expect(r.changes).toEqual([]);
  });

  it("a hand edit fails preview --refresh --expect-no-changes naming the field; up --refresh repairs it", async () => {
    const good = fs.readFileSync(readme(), "utf8");
    const dirx = path.join(dir, "etc/exports.d");
    const exportsFile = path.join(dirx, fs.readdirSync(dirx)[0]);
    const goodExport = fs.readFileSync(exportsFile, "utf8");
    fs.appendFileSync(readme(), "edited by hand\n");
    fs.appendFileSync(exportsFile, "/tmp *(rw,no_root_squash)\n");

    const p = await engine.preview({ refresh: true, expectNoChanges: true });
    expect(p.errors.join("\n")).toMatch(/no changes were expected/);
    expect(p.changes.filter((s) => s.op === "update").map((s) => s.name).sort()).toEqual(["quickstart-export-export", "quickstart-readme"]);
    // The detailed diff names the drifted field and shows the hand edit.
    expect(engine.lastOutput).toMatch(/content/);
    expect(engine.lastOutput).toMatch(/edited by hand/);

    const u = await engine.up({ refresh: true });
    expect(u.errors).toEqual([]);
    expect(fs.readFileSync(readme(), "utf8")).toBe(good);
    expect(fs.readFileSync(exportsFile, "utf8")).toBe(goodExport);
    expect((await engine.preview({ refresh: true, expectNoChanges: true })).errors).toEqual([]);
  });

  it("pulumi destroy leaves the host as before: pool, dataset, export, unit and README gone", async () => {
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(d.changes.every((s) => s.op === "delete")).toBe(true);
    expect(fs.existsSync(readme())).toBe(false);
    expect(fs.readdirSync(path.join(dir, "etc/exports.d"))).toEqual([]);
    expect(fs.existsSync(path.join(dir, "guest/etc/systemd/system/mnt-share.mount"))).toBe(false);
    expect(execFileSync("zpool", ["list", "-H", "-o", "name"], { encoding: "utf8" }).split("\n")).not.toContain(poolName);
  });
});
