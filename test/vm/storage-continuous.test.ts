/**
 * VM lane: near-continuous replication and the failover drill on real OpenZFS 2.1 with Debian's
 * syncoid and a real systemd, over SSH, through the in-process engine. What the zfs-fuse lane
 * cannot show: the loop service started and restarted by systemd, its journal lines under the
 * `kvmshare-replication` tag, the service's cgroup killed hard (`systemctl kill -s KILL`, as a
 * dying host would), `written@` as the lag in bytes, and a promoted replica that aborts a
 * partial resumable receive.
 *
 *   npx jest --selectProjects vm --testPathPatterns storage-continuous
 *
 * (the openzfs image has sanoid since storage-sanoid.test.ts; see docs/vm-lane.md).
 */
import { Host } from "../../core/connection";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { ZfsReplication } from "../../components/protection";
import { promoteReplica, resyncOldSource } from "../../components/protection/failover";
import { Engine } from "../harness/engine";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeVm, scenario, useGuest } from "./lane";

const A = "/dev/disk/by-id/virtio-kvmshare-sa";
const B = "/dev/disk/by-id/virtio-kvmshare-sb";
/** A syncoid run takes 10-13 s in the TCG guest (docs/storage.md): 30 s keeps runs within the interval. */
const INTERVAL = 30;
const SERVICE = "kvmshare-syncoid-near.service";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function snaps(host: Host, ds: string): Promise<string[]> {
  const out = (await host.run(["zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-s", "createtxg", "-r", ds])).stdout;
  return out.split("\n").filter(Boolean).map((s) => s.split("@")[1]);
}

describeVm("VM lane: near-continuous replication and failover on OpenZFS 2.1", () => {
  const lane = useGuest("storage-continuous.test.ts", "openzfs", () => ({ disks: ["sa", "sb"].map((name) => ({ name, sizeMiB: 768 })) }));
  let dir: string;
  let engine: Engine;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-vm-cont-"));
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
    process.env.KVMSHARE_QUIET ??= "1";
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const stack = () => () => {
    const { connection } = lane.guest;
    const tank = new ZfsPool("tank", { connection, vdevs: [{ type: "disk", devices: [A] }], mountpoint: "/tank" });
    const backup = new ZfsPool("backup", { connection, vdevs: [{ type: "disk", devices: [B] }], mountpoint: "/backup" });
    const share = new ZfsDataset("share", { pool: tank, datasetName: "tank/share", properties: { compression: "lz4", atime: "off" } });
    new ZfsReplication("near", { source: share, target: "backup/share", scheduler: "syncoid", interval: INTERVAL }, { dependsOn: [backup] });
  };

  scenario(lane, "systemd runs the loop: interval held, one own snapshot a side, journal and textfile", async () => {
    const { host } = lane.guest;
    const r = await engine.up(stack());
    expect(r.errors).toEqual([]);
    expect(r.outputs["near-syncoid"].schedule).toMatchObject({ intervalSeconds: INTERVAL, rpoSeconds: 2 * INTERVAL });
    expect((await host.run(["systemctl", "is-active", SERVICE])).stdout.trim()).toBe("active");
    await host.run(["zfs", "snapshot", "tank/share@by-hand"]);
    await sleep(4 * INTERVAL * 1000);
    const state = (await host.readFile("/var/lib/kvmshare/replication/near.state"))!;
    expect(Number(/^runs=(\d+)$/m.exec(state)![1])).toBeGreaterThanOrEqual(4);
    expect(state).toMatch(/^last_exit=0$/m);
    expect(state).toMatch(/^lag_method=written$/m);
    const own = (s: string[]) => s.filter((x) => x.startsWith("syncoid_near_"));
    expect(own(await snaps(host, "tank/share"))).toHaveLength(1);
    expect(own(await snaps(host, "backup/share"))).toEqual(own(await snaps(host, "tank/share")));
    expect(await snaps(host, "tank/share")).toContain("by-hand");
    const prom = (await host.readFile("/var/lib/prometheus/node-exporter/kvmshare_replication_near.prom"))!;
    expect(prom).toMatch(/^kvmshare_replication_last_run_ok\{.*\} 1$/m);
    const journal = (await host.run(["journalctl", "-t", "kvmshare-replication", "--no-pager", "-o", "cat"])).stdout;
    expect(journal).toMatch(new RegExp(`near: replicating tank/share every ${INTERVAL} s`));
    const p = await engine.preview(stack(), { refresh: true });
    expect(p.changes.map((c) => `${c.op} ${c.name}`)).toEqual([]);
  }, 300_000);

  scenario(lane, "a broken target is lag: journal line, drift at preview --refresh", async () => {
    const { host } = lane.guest;
    await host.run(["sh", "-c", "zfs set readonly=off backup/share && echo local > /backup/share/local-only.txt && sync"]);
    await sleep(2.5 * INTERVAL * 1000);
    const journal = (await host.run(["journalctl", "-t", "kvmshare-replication", "--no-pager", "-o", "cat"])).stdout;
    expect(journal).toMatch(/near: run failed \(exit \d+\)/);
    const p = await engine.preview(stack(), { refresh: true });
    expect(p.changes.map((c) => `${c.op} ${c.name} ${c.diffs.join(",")}`)).toEqual([expect.stringMatching(/^update near-syncoid .*lag/)]);
    // put it back by hand and let the loop catch up
    const common = (await snaps(host, "backup/share")).filter((x) => x.startsWith("syncoid_near_")).pop()!;
    await host.run(["sh", "-c", 'zfs rollback "$1" && zfs set readonly=on backup/share', "sh", `backup/share@${common}`]);
    await sleep(2 * INTERVAL * 1000);
    expect((await host.run(["journalctl", "-t", "kvmshare-replication", "--no-pager", "-o", "cat"])).stdout).toMatch(/near: caught up/);
  }, 300_000);

  scenario(lane, "failover: the service's cgroup killed, the replica promoted at its newest snapshot, the way back refused then forced", async () => {
    const { host } = lane.guest;
    await host.run(["sh", "-c", "date +%s%N > /tank/share/last-write && sync"]);
    await sleep(2 * INTERVAL * 1000);
    await host.run(["systemctl", "kill", "-s", "KILL", SERVICE]);
    await host.run(["systemctl", "stop", SERVICE]);
    await host.run(["sh", "-c", "echo late > /tank/share/late.txt && sync"]);
    const res = await promoteReplica(host, "backup/share");
    expect(res.snapshot).toMatch(/^backup\/share@syncoid_near_/);
    expect((await host.run(["zfs", "get", "-H", "-o", "value", "readonly", "backup/share"])).stdout.trim()).toBe("off");
    expect(await host.readFile("/backup/share/last-write")).toBe(await host.readFile("/tank/share/last-write"));
    await host.run(["sh", "-c", "echo after > /backup/share/after-failover.txt && sync"]);
    await expect(resyncOldSource(host, host, { promoted: "backup/share", oldSource: "tank/share" })).rejects.toThrow(/has diverged .*Nothing was sent or destroyed/);
    expect(await host.readFile("/tank/share/late.txt")).toBe("late\n");
    await resyncOldSource(host, host, { promoted: "backup/share", oldSource: "tank/share", allowDestroy: true });
    expect(await host.readFile("/tank/share/after-failover.txt")).toBe("after\n");
  }, 300_000);
});
