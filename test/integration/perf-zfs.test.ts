/**
 * SharePerformanceCheck on a real ZFS dataset (zfs-fuse, through the shared lease helper): the
 * figures a check reports for a dataset on this machine (psync/buffered and the default
 * libaio/O_DIRECT job), and a real fio failure (a dataset over its quota) reported with the fix.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SharePerformanceCheck } from "../../components/perf";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { LocalHost } from "../../core/connection";
import { formatTable, runPerfCheck } from "../../perf";
import { testEngine, TestEngine } from "../harness/testEngine";
import { acquireZfsFuse, destroyPoolIfPresent, ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS, ZfsFuseLease } from "../fixtures/zfsFuse";
import { requirePrograms } from "../requirePrograms";

process.env.KVMSHARE_QUIET = "1";
jest.setTimeout(180_000);

const describeZfs = requirePrograms([...ZFS_FUSE_PROGRAMS, "fio"], ZFS_FUSE_REQUIREMENTS);

describeZfs("SharePerformanceCheck on a zfs-fuse dataset", () => {
  const pool = `ks${process.pid}perf`;
  let lease: ZfsFuseLease;
  let dir: string;
  let mnt: string;
  let engine: TestEngine;

  beforeAll(async () => {
    lease = await acquireZfsFuse();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-perfzfs-"));
    const dev = path.join(dir, "vdev0");
    execFileSync("truncate", ["-s", "512M", dev]);
    mnt = path.join(dir, "mnt");
    execFileSync("zpool", ["create", "-m", mnt, pool, dev]);
    execFileSync("zfs", ["create", "-o", "atime=off", `${pool}/share`]);
    engine = testEngine({ stateFile: path.join(dir, "state.json") });
  });

  afterAll(async () => {
    if (engine) await engine.destroy();
    await destroyPoolIfPresent(pool, dir);
    await destroyPoolIfPresent(`${pool}c`, dir);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await lease?.release();
  });

  it("measures the dataset and reports the figures", async () => {
    const share = path.join(mnt, "share");
    expect(execFileSync("zfs", ["get", "-H", "-o", "value", "mounted", `${pool}/share`], { encoding: "utf8" }).trim()).toBe("yes");
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const r = await engine.up(() => {
      new SharePerformanceCheck("zfscheck", {
        path: share,
        // Buffered psync, queue depth 1: how an application on a FUSE filesystem sees it.
        fio: { runtimeSec: 3, sizePerJob: "32M", direct: false, ioEngine: "psync", ioDepth: 1 },
        thresholds: { preset: "reference", maxLossPercent: 0 },
        loss: { target: "127.0.0.1", count: 20, intervalMs: 20, waitSec: 1 },
        onMiss: "warn",
        reportPath: path.join(dir, "zfscheck.json"),
      });
    });
    // The real engine reports the component's warning as a diagnostic; the in-process one prints it.
    const warned = [...(r.warnings ?? []), ...warn.mock.calls.map((c) => c.join(" "))].join("\n");
    warn.mockRestore();
    expect(r.errors).toEqual([]);
    const out = r.outputs["zfscheck-run"];
    expect(out.iops as number).toBeGreaterThan(0);
    expect(out.latencyMs as number).toBeGreaterThan(0);
    const report = JSON.parse(fs.readFileSync(path.join(dir, "zfscheck.json"), "utf8"));
    expect(report.path).toBe(share);
    // Whatever this machine does, the verdict is consistent with the figures.
    expect(out.passed).toBe(report.misses.length === 0);
    for (const m of report.misses) {
      expect(m.message).toMatch(new RegExp(`^${m.threshold}: `));
      expect(warned).toContain(m.message); // onMiss: warn surfaces each miss as an engine warning
    }
    process.stdout.write(`perf zfs-fuse dataset:\n${formatTable(report)}`);
    expect(fs.readdirSync(share)).toEqual([]);
  });

  it("the default job (libaio, O_DIRECT, iodepth 16) runs on zfs-fuse too", async () => {
    const share = path.join(mnt, "share");
    const report = await runPerfCheck(new LocalHost(), { name: "zfs-default", path: share, fio: { runtimeSec: 3, sizePerJob: "32M" } });
    expect(report.fio.options).toMatchObject({ ioEngine: "libaio", direct: true, ioDepth: 16 });
    expect(report.measured.iops).toBeGreaterThan(0);
    process.stdout.write(`perf zfs-fuse default job:\n${formatTable(report)}`);
    expect(fs.readdirSync(share)).toEqual([]);
  });

  it("a dataset too small for the job: fio's failure is reported with the fix, and the scratch files are gone", async () => {
    execFileSync("zfs", ["create", "-o", "quota=4M", `${pool}/tiny`]);
    const tiny = path.join(mnt, "tiny");
    await expect(
      runPerfCheck(new LocalHost(), { name: "zfs-tiny", path: tiny, fio: { runtimeSec: 1, sizePerJob: "64M", direct: false, ioEngine: "psync" } }),
    ).rejects.toThrow(/fio failed on local \(exit \d+\):[\s\S]*hint: not enough free space: lower fio.sizePerJob or fio.jobs/);
    expect(fs.readdirSync(tiny)).toEqual([]);
  });

  it("composes with ZfsPool and ZfsDataset: path from the dataset's mountpoint output, trigger from its guid, a second up changes nothing", async () => {
    const stack = testEngine({ stateFile: path.join(dir, "composed.json") });
    const program = () => {
      const p = new ZfsPool("tank", { poolName: `${pool}c`, vdevs: [{ type: "disk", devices: [path.join(dir, "cvdev")] }], fileSizeMiB: 256, mountpoint: path.join(dir, "cmnt"), allowDestroy: true });
      const ds = new ZfsDataset("share", { pool: p, datasetName: `${pool}c/share`, properties: { atime: "off" }, allowDestroy: true });
      new SharePerformanceCheck(
        "composed",
        {
          path: ds.mountpoint.apply((m) => m ?? ""),
          trigger: ds.guid.apply((g) => g ?? ""),
          fio: { runtimeSec: 1, sizePerJob: "8M", direct: false, ioEngine: "psync", ioDepth: 1 },
          thresholds: { minIops: 1 },
          reportPath: path.join(dir, "composed-report.json"),
        },
        { dependsOn: [ds] },
      );
    };
    try {
      const r = await stack.up(program);
      expect(r.errors).toEqual([]);
      expect(r.changes.map((c) => `${c.op} ${c.name}`)).toEqual(["create tank-pool", "create share-dataset", "create composed-run"]);
      const out = r.outputs["composed-run"];
      expect(out.passed).toBe(true);
      expect((out.spec as { path: string; trigger: string }).path).toBe(path.join(dir, "cmnt", "share"));
      expect((out.spec as { trigger: string }).trigger).toBe(execFileSync("zfs", ["get", "-Hp", "-o", "value", "guid", `${pool}c/share`], { encoding: "utf8" }).trim());
      const again = await stack.up(program);
      expect(again.errors).toEqual([]);
      expect(again.changes).toEqual([]);
    } finally {
      const d = await stack.destroy();
      expect(d.errors).toEqual([]);
    }
    expect(fs.existsSync(path.join(dir, "composed-report.json"))).toBe(false);
  });
});
