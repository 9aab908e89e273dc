/**
 * ZfsReplication on a real zfs-fuse, through the in-process engine: a dry-run plan before
 * anything moves, a full then an incremental send that leave identical (checksummed) content on
 * the target, diverged targets refused with nothing destroyed, and the same over SSH (an sshd on
 * 127.0.0.1 with its own keys, killed by PID).
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { treeSha256 as tree } from "../fixtures/files";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { ZfsReplication } from "../../components/protection";
import { Engine } from "../harness/engine";
import { Sshd, startSshd } from "../fixtures/sshd";
import { acquireZfsFuse, cleanUpZfsTest, ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS, ZfsFuseLease } from "../fixtures/zfsFuse";
import { PROGRAMS, requirePrograms } from "../requirePrograms";

const describe = requirePrograms([...ZFS_FUSE_PROGRAMS, ...PROGRAMS.sshd, "ip"], ZFS_FUSE_REQUIREMENTS);

process.env.KVMSHARE_QUIET ??= "1";
jest.setTimeout(180_000);

// A time limit on every synchronous zfs call: a wedged zfs-fuse (seen once at load ~4, every FUSE
// request stuck) must fail this file, not block Jest's event loop and with it the whole lane.
const ZFS_SYNC = { encoding: "utf8" as const, timeout: 120_000, killSignal: "SIGKILL" as const };
const zfs = (...args: string[]) => execFileSync("zfs", args, ZFS_SYNC).trim();

function mountOf(ds: string): string {
  if (zfs("get", "-H", "-o", "value", "mounted", ds) !== "yes") execFileSync("zfs", ["mount", ds], ZFS_SYNC);
  return zfs("get", "-H", "-o", "value", "mountpoint", ds);
}

describe("ZFS replication on zfs-fuse", () => {
  const src = `ks${process.pid}r`;
  const dst = `ks${process.pid}b`;
  const srcDs = `${src}/vm`;
  let lease: ZfsFuseLease;
  let dir: string;
  let engine: Engine;
  let sshd: Sshd | undefined;

  const pools = () => {
    const s = new ZfsPool("src", { poolName: src, vdevs: [{ type: "disk", devices: [path.join(dir, "s0")] }], fileSizeMiB: 256, mountpoint: path.join(dir, "src"), allowDestroy: true });
    const b = new ZfsPool("dst", { poolName: dst, vdevs: [{ type: "disk", devices: [path.join(dir, "b0")] }], fileSizeMiB: 256, mountpoint: path.join(dir, "dst"), allowDestroy: true });
    const d = new ZfsDataset("vm", { pool: s, datasetName: srcDs, properties: { compression: "gzip" } });
    return { s, b, d };
  };
  const program = (opts: { dryRun?: boolean; allowDestroy?: boolean; target?: string; ssh?: boolean } = {}) => () => {
    const { b, d } = pools();
    new ZfsReplication("backup", {
      source: d,
      target: opts.target ?? `${dst}/vm`,
      targetConnection: opts.ssh ? sshd!.spec : undefined,
      dryRun: opts.dryRun,
      allowDestroy: opts.allowDestroy,
    }, { dependsOn: [b] });
  };

  beforeAll(async () => {
    lease = await acquireZfsFuse();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-repl-"));
    fs.chmodSync(dir, 0o700);
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  });

  afterAll(async () => {
    await sshd?.stop();
    await cleanUpZfsTest(lease, dir, [src, dst]);
  });

  it("dry run reports what would be sent and its size before anything moves", async () => {
    // pools and dataset first, then data, then the dry run
    let r = await engine.up(() => void pools());
    expect(r.errors).toEqual([]);
    const mnt = mountOf(srcDs);
    fs.writeFileSync(path.join(mnt, "disk.img"), crypto.randomBytes(8 * 1024 * 1024));
    fs.mkdirSync(path.join(mnt, "etc"));
    fs.writeFileSync(path.join(mnt, "etc", "config"), "a=1\n");
    execFileSync("sync");
    // zfs-fuse accounts written blocks at the next txg commit (up to ~30 s later); a snapshot of
    // another dataset of the pool forces one
    execFileSync("zfs", ["snapshot", `${src}@txg-flush`]);
    execFileSync("zfs", ["destroy", `${src}@txg-flush`]);
    for (let i = 0; i < 100 && Number(zfs("get", "-Hp", "-o", "value", "referenced", srcDs)) < 8 * 1024 * 1024; i++) {
      await new Promise((res) => setTimeout(res, 300));
    }

    r = await engine.up(program({ dryRun: true }));
    expect(r.errors).toEqual([]);
    const plan = r.outputs["backup-replication"].plan as Record<string, unknown>;
    expect(plan.mode).toBe("full");
    expect(plan.from).toBeNull();
    expect(plan.to).toMatch(/^kvmshare-repl-backup-\d{8}T\d{6}Z$/);
    expect(plan.estimatedBytes as number).toBeGreaterThan(8 * 1024 * 1024);
    expect(plan.estimateMethod).toMatch(/referenced bytes .*zfs-fuse 0\.7\.0.*no send -nvP/);
    expect(plan.receive).toEqual(["zfs", "receive", `${dst}/vm`]); // no -s: zfs-fuse cannot resume
    // nothing moved: no target, no snapshot on the source
    expect(execFileSync("zfs", ["list", "-H", "-o", "name", "-r", dst], { encoding: "utf8" })).not.toContain(`${dst}/vm`);
    expect(zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", src)).toBe("");
  });

  it("resumable: true on a host without resumable receive fails at preview with the fix", async () => {
    const p = await engine.preview(() => {
      const { b, d } = pools();
      new ZfsReplication("strict", { source: d, target: `${dst}/strict`, resumable: true }, { dependsOn: [b] });
    });
    expect(p.errors.join("\n")).toMatch(/resumable: zfs-fuse 0\.7\.0 \(pool version 23\) on local does not support resumable receive \(zfs receive -s\); needs OpenZFS 0\.7 or later; set resumable: false for this host \(got true\)/);
  });

  it("full then incremental replication leaves identical content on the target (checksummed files)", async () => {
    let r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.outputs["backup-replication"].inSync).toBe(true);
    const srcMnt = mountOf(srcDs);
    const dstMnt = mountOf(`${dst}/vm`);
    expect(tree(dstMnt)).toEqual(tree(srcMnt));
    // readonly=on took effect (zfs-fuse shows the mount's temporary value in `zfs get`, so test the effect)
    expect(() => fs.writeFileSync(path.join(dstMnt, "probe.txt"), "x")).toThrow(/EROFS|read-only/i);

    // change the source: new file, modified file, deleted file
    fs.writeFileSync(path.join(srcMnt, "more.bin"), crypto.randomBytes(3 * 1024 * 1024));
    fs.writeFileSync(path.join(srcMnt, "etc", "config"), "a=2\n");
    fs.writeFileSync(path.join(srcMnt, "gone.txt"), "x");
    execFileSync("sync");
    r = await engine.up(program());
    expect(r.errors).toEqual([]);
    fs.unlinkSync(path.join(srcMnt, "gone.txt"));
    execFileSync("sync");
    r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.changes.map((s) => `${s.op} ${s.name}`)).toEqual(["update backup-replication"]);
    expect(tree(mountOf(`${dst}/vm`))).toEqual(tree(srcMnt));
    expect(Object.keys(tree(srcMnt)).sort()).toEqual(["disk.img", "etc/config", "more.bin"]);
    // incremental: the target kept the common history; the source keeps 2 own snapshots
    const srcSnaps = zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", srcDs).split("\n");
    expect(srcSnaps).toHaveLength(2);
    const dstSnaps = zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", `${dst}/vm`).split("\n");
    expect(dstSnaps.map((s) => s.split("@")[1])).toEqual(srcSnaps.map((s) => s.split("@")[1]));
    expect(r.outputs["backup-replication"].lastSnapshot).toBe(srcSnaps[1]);

    // a dry run now plans an incremental from the newest common snapshot
    const p = await engine.up(program({ dryRun: true }));
    const plan = p.outputs["backup-replication"].plan as Record<string, unknown>;
    expect(plan.mode).toBe("incremental");
    expect(plan.from).toBe(srcSnaps[1]);
  });

  it("diverged target refused: a snapshot the source lacks; nothing sent or destroyed", async () => {
    const target = `${dst}/vm`;
    execFileSync("zfs", ["set", "readonly=off", target]);
    fs.writeFileSync(path.join(mountOf(target), "local-only.txt"), "made on the backup\n");
    execFileSync("sync");
    execFileSync("zfs", ["snapshot", `${target}@hand-made`]);
    const srcBefore = zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", srcDs);
    const r = await engine.up(program());
    const text = r.errors.join("\n");
    expect(text).toMatch(new RegExp(`target: ${target} on local has diverged from ${srcDs} on local: it has snapshots the source lacks after the common @kvmshare-repl-backup-\\d+T\\d+Z(?:-\\d+)?: @hand-made\\. Nothing was sent or destroyed`));
    expect(text).toMatch(/allowDestroy: true/);
    expect(zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", target)).toContain(`${target}@hand-made`);
    expect(fs.readFileSync(path.join(mountOf(target), "local-only.txt"), "utf8")).toBe("made on the backup\n");
    expect(zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", srcDs)).toBe(srcBefore);
  });

  it("diverged target refused: written to since the common snapshot (zfs receive refuses, kvmshare explains)", async () => {
    const target = `${dst}/vm`;
    execFileSync("zfs", ["destroy", `${target}@hand-made`]);
    // local-only.txt was written after the common snapshot and is still there
    const srcBefore = zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", srcDs);
    const r = await engine.up(program());
    expect(r.errors.join("\n")).toMatch(new RegExp(`target: ${target} on local has diverged .*zfs receive refused the increment .*Nothing was sent or destroyed`));
    expect(fs.readFileSync(path.join(mountOf(target), "local-only.txt"), "utf8")).toBe("made on the backup\n");
    expect(zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", srcDs)).toBe(srcBefore);
  });

  it("allowDestroy: true lets receive -F discard the target's changes", async () => {
    const target = `${dst}/vm`;
    const r = await engine.up(program({ allowDestroy: true }));
    expect(r.errors).toEqual([]);
    expect(fs.existsSync(path.join(mountOf(target), "local-only.txt"))).toBe(false);
    expect(tree(mountOf(target))).toEqual(tree(mountOf(srcDs)));
  });

  it("replicates over SSH (sshd on 127.0.0.1) with the same result", async () => {
    sshd = await startSshd(fs.mkdtempSync(path.join(dir, "ssh-")));
    const target = `${dst}/overssh`;
    let r = await engine.up(program({ ssh: true, target }));
    expect(r.errors).toEqual([]);
    const srcMnt = mountOf(srcDs);
    fs.writeFileSync(path.join(srcMnt, "via-ssh.bin"), crypto.randomBytes(2 * 1024 * 1024));
    execFileSync("sync");
    r = await engine.up(program({ ssh: true, target }));
    expect(r.errors).toEqual([]);
    expect(tree(mountOf(target))).toEqual(tree(srcMnt));
    // the SSH key never lands in state in plain text
    expect(fs.readFileSync(path.join(dir, "state.json"), "utf8")).not.toContain("PRIVATE KEY");
  });
});
