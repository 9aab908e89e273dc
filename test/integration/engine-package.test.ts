/**
 * kvmshare reused from another stack, through the REAL Pulumi engine: a separate Pulumi project
 * (its own Pulumi.yaml and package.json, in a temp directory) installs the `npm pack` tarball.
 *
 * - Portable state: stood up from one directory, refreshed, updated and destroyed from a copy of
 *   the project in another directory after the first is deleted.
 * - A change of the connection alone (an SSH timeout) is an update in place: the dataset and its
 *   files stay. Moving the dataset to another host is refused at preview with what would happen.
 * - No private key in the stored state or in what the engine printed.
 * - Upgrade: state written by kvmshare 0.1.0 (the layout before components/exports was split) is
 *   taken over by `pulumi up` with this version, after which refresh and destroy work.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installKvmshare, packKvmshare, RealEngine, requirePulumiCli } from "../harness/realEngine";
import { Sshd, startSshd } from "../fixtures/sshd";
import { acquireZfsFuse, destroyPoolIfPresent, ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS, ZfsFuseLease } from "../fixtures/zfsFuse";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

jest.setTimeout(600_000);
const ROOT = path.resolve(__dirname, "../..");
// The one missing-program policy of the tests: fails under CI with a banner, skips with it elsewhere.
const describe = requirePrograms([...ZFS_FUSE_PROGRAMS, ...PROGRAMS.sshd, "ssh", "exportfs", "pulumi"], ZFS_FUSE_REQUIREMENTS);

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { ManagedFile, ZfsDataset, ZfsPool } from "kvmshare";

const cfg = new pulumi.Config();
const dir = cfg.require("dir");
const conn = cfg.requireSecretObject<any>("connection").apply((c) => ({ ...c, readyTimeoutMs: cfg.getNumber("readyTimeoutMs") ?? 20000 }));
const pool = new ZfsPool("pool", {
  poolName: cfg.require("poolName"),
  vdevs: [{ type: "disk", devices: [dir + "/vdev0.img"] }],
  fileSizeMiB: 128,
  mountpoint: dir + "/zfs",
  allowDestroy: true,
});
// The dataset is reached over SSH (the same machine, through a test sshd): its connection may
// change without touching its data.
const ds = new ZfsDataset("data", {
  connection: conn,
  datasetName: cfg.require("poolName") + "/data",
  properties: { mountpoint: dir + "/zfs/data", compression: "gzip" },
}, { dependsOn: [pool] });
const note = new ManagedFile("note", { file: { path: dir + "/note.txt", content: cfg.get("note") ?? "first\\n", mode: "0644" } });
export const mountpoint = ds.mountpoint;
`;

function writeProject(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: kvmshare-consumer\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "kvmshare-consumer", private: true, main: "index.ts" }, null, 2));
  fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM);
}

describe("kvmshare from its npm tarball in a separate project, through the real engine", () => {
  let tmp: string;
  let zfs: ZfsFuseLease;
  let sshd: Sshd;
  let engine: RealEngine;
  let privateKey: string;
  const poolName = `kspk${process.pid}`;
  const projA = () => path.join(tmp, "checkout-a");
  const projB = () => path.join(tmp, "elsewhere", "checkout-b");

  beforeAll(async () => {
    requirePulumiCli();
    zfs = await acquireZfsFuse();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ks-consumer-"));
    fs.mkdirSync(path.join(tmp, "sshd"));
    const s = await startSshd(path.join(tmp, "sshd"));
    sshd = s;
    privateKey = s.spec.privateKey as string;
    writeProject(projA());
    installKvmshare(projA(), packKvmshare());
    engine = new RealEngine({
      workDir: projA(),
      stack: "dev",
      config: { dir: tmp, poolName, connection: { secret: JSON.stringify(s.spec) } },
    });
  });

  afterAll(async () => {
    try {
      if (fs.existsSync(projB())) await engine.from(projB()).destroy();
    } finally {
      await destroyPoolIfPresent(poolName, tmp);
      await sshd?.stop();
      await zfs.release();
      engine.remove();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("pulumi up from checkout A: pool, dataset over SSH, a managed file", async () => {
    const r = await engine.up();
    expect(r.errors).toEqual([]);
    expect(r.changes.map((c) => c.type.split(":").pop()).sort()).toEqual(["ManagedFile", "ZfsDataset", "ZfsPool"]);
    fs.writeFileSync(path.join(tmp, "zfs/data/keep.txt"), "data that must survive\n");
    // The private key is a secret: ciphertext in the stored state, never printed.
    for (const f of engine.stateFiles()) expect(fs.readFileSync(f, "utf8")).not.toContain(privateKey.split("\n")[1]);
    expect(engine.lastOutput).not.toContain(privateKey.split("\n")[1]);
  });

  it("refreshes, updates and destroys from a copy of the project in another directory, after A is gone", async () => {
    writeProject(projB());
    installKvmshare(projB(), packKvmshare());
    fs.rmSync(projA(), { recursive: true, force: true });
    engine = engine.from(projB());
    const p = await engine.preview({ refresh: true, expectNoChanges: true });
    expect(p.errors).toEqual([]);
    await (await engine.stack()).setConfig("note", { value: "second\n" });
    const u = await engine.up({ refresh: true });
    expect(u.errors).toEqual([]);
    expect(u.changes.map((c) => `${c.op} ${c.name}`)).toEqual(["update note"]);
    expect(fs.readFileSync(path.join(tmp, "note.txt"), "utf8")).toBe("second\n");
  });

  it("a changed SSH timeout updates the dataset in place: never replaced, its files kept", async () => {
    await (await engine.stack()).setConfig("readyTimeoutMs", { value: "45000" });
    const p = await engine.preview();
    expect(p.errors).toEqual([]);
    expect(p.changes.map((c) => `${c.op} ${c.name}`)).toEqual(["update data-dataset"]);
    const u = await engine.up();
    expect(u.errors).toEqual([]);
    expect(u.changes.map((c) => c.op)).toEqual(["update"]);
    expect(fs.readFileSync(path.join(tmp, "zfs/data/keep.txt"), "utf8")).toBe("data that must survive\n");
  });

  it("moving the dataset to another host is refused at preview, saying what would happen to the data", async () => {
    const s = await engine.stack();
    const conn = JSON.parse((await s.getConfig("connection")).value);
    await s.setConfig("connection", { value: JSON.stringify({ ...conn, host: "localhost" }), secret: true });
    const p = await engine.preview();
    expect(p.errors.join("\n")).toMatch(/moves this ZfsDataset to another host.*created empty on the new host.*allowDestroy: true/s);
    await s.setConfig("connection", { value: JSON.stringify(conn), secret: true });
    expect(fs.readFileSync(path.join(tmp, "zfs/data/keep.txt"), "utf8")).toBe("data that must survive\n");
  });

  it("destroy from the copy removes what it made", async () => {
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(path.join(tmp, "note.txt"))).toBe(false);
    expect(execFileSync("zpool", ["list", "-H", "-o", "name"], { encoding: "utf8" }).split("\n")).not.toContain(poolName);
  });
});

/** kvmshare 0.1.0 as released before the layout change (commit f0b518f), packed from its sources. */
function packOldRelease(into: string): string {
  const src = path.join(into, "kvmshare-0.1.0-src");
  execFileSync("git", ["-C", ROOT, "worktree", "add", "--detach", src, "f0b518f"], { stdio: "pipe" });
  try {
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(src, "node_modules"));
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: src, stdio: "pipe" });
    fs.rmSync(path.join(src, "node_modules"));
    const r = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", into], { cwd: src, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`npm pack of 0.1.0 failed: ${r.stderr}`);
    return path.join(into, r.stdout.trim().split("\n").pop() as string);
  } finally {
    execFileSync("git", ["-C", ROOT, "worktree", "remove", "--force", src], { stdio: "pipe" });
  }
}

describe("upgrade: state written by kvmshare 0.1.0 is taken over by this version", () => {
  let tmp: string;
  let engine: RealEngine;
  const program = `import * as pulumi from "@pulumi/pulumi";
import { ManagedFile, NfsExport } from "kvmshare";
const dir = new pulumi.Config().require("dir");
new ManagedFile("note", { file: { path: dir + "/note.txt", content: "hello\\n", mode: "0644" } });
new NfsExport("exp", { path: dir + "/srv", clients: ["127.0.0.1"], fsid: 7, exportsDir: dir + "/exports.d",
  kernel: { mainExportsFile: "", etabPath: "" }, reloadCommand: ["true"] });
`;

  beforeAll(() => {
    requirePulumiCli();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ks-upgrade-"));
    fs.mkdirSync(path.join(tmp, "srv"));
    const proj = path.join(tmp, "proj");
    writeProject(proj);
    fs.writeFileSync(path.join(proj, "index.ts"), program);
    installKvmshare(proj, packOldRelease(tmp));
    engine = new RealEngine({ workDir: proj, stack: "dev", config: { dir: tmp } });
  });

  afterAll(async () => {
    await engine.destroy();
    engine.remove();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("0.1.0 stands the stack up", async () => {
    const r = await engine.up();
    expect(r.errors).toEqual([]);
    expect(fs.readdirSync(path.join(tmp, "exports.d"))).toHaveLength(1);
  });

  it("after the upgrade, up updates every resource in place (no replace, no host change) and refresh works again", async () => {
    installKvmshare(path.join(tmp, "proj"), packKvmshare());
    const before = fs.readFileSync(path.join(tmp, "exports.d", fs.readdirSync(path.join(tmp, "exports.d"))[0]), "utf8");
    const u = await engine.up();
    expect(u.errors).toEqual([]);
    expect(u.changes.length).toBeGreaterThan(0);
    expect(u.changes.every((c) => c.op === "update")).toBe(true);
    expect(fs.readFileSync(path.join(tmp, "exports.d", fs.readdirSync(path.join(tmp, "exports.d"))[0]), "utf8")).toBe(before);
    const p = await engine.preview({ refresh: true, expectNoChanges: true });
    expect(p.errors).toEqual([]);
  });

  it("destroy with the new version removes what 0.1.0 made", async () => {
    const d = await engine.destroy();
    expect(d.errors).toEqual([]);
    expect(fs.existsSync(path.join(tmp, "note.txt"))).toBe(false);
    expect(fs.readdirSync(path.join(tmp, "exports.d"))).toEqual([]);
  });
});
