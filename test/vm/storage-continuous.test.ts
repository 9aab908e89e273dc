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
import { NfsExport } from "../../components/nfs";
import { GuestMount } from "../../components/guest";
import { register as registerFailover } from "../../cli/failover";
import { runCli } from "../fixtures/cli";
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
const MOUNT = "/mnt/share";
/**
 * The guest's reader: the share's `side` file every 100 ms (`<epoch ns> <content or ->`). Each
 * read runs in the background: a read stuck on the dead server's hard mount (the NFS client's
 * state recovery is not killable) must not stop the reads that follow on the moved mount.
 */
const READER = `#!/bin/sh
echo $$ > /root/reader.pid
while :; do
  ( if v=$(timeout -s KILL 2 cat ${MOUNT}/side 2>/dev/null); then echo "$(date +%s%N) $v"; else echo "$(date +%s%N) -"; fi >> /root/reads.log ) &
  sleep 0.1
done
`;
/** The guest's writer: a 64 KiB file every 0.5 s through the mount, fsynced; `<n> <epoch ns done> <sha256>` once it completed. */
const WRITER = `#!/bin/sh
echo $$ > /root/writer.pid
mkdir -p ${MOUNT}/w
i=0
while :; do
  i=$((i + 1))
  head -c 65536 /dev/urandom > /root/w.tmp
  s=$(sha256sum < /root/w.tmp | cut -c 1-64)
  if timeout -s KILL 5 dd if=/root/w.tmp of=${MOUNT}/w/f$i bs=64k conv=fsync status=none; then echo "$i $(date +%s%N) $s" >> /root/writes.log; fi
  sleep 0.5
done
`;
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

  /**
   * `failover`: the documented stack switch (docs/storage.md). What lives on the source host (its
   * pool, dataset, replication, export) is declared with `retainOnDelete` and leaves the program
   * on failover: a dead host cannot pass preview's checks, and Pulumi then forgets those resources
   * without reaching it. The export (same settings) and the guest's mount follow the switch.
   */
  const stack = (failover = false) => () => {
    const { connection } = lane.guest;
    const onSource = { retainOnDelete: true };
    const backup = new ZfsPool("backup", { connection, vdevs: [{ type: "disk", devices: [B] }], mountpoint: "/backup" });
    let share: ZfsDataset | undefined;
    if (!failover) {
      const tank = new ZfsPool("tank", { connection, vdevs: [{ type: "disk", devices: [A] }], mountpoint: "/tank" }, onSource);
      share = new ZfsDataset("share", { pool: tank, datasetName: "tank/share", properties: { compression: "lz4", atime: "off" } }, onSource);
      new ZfsReplication("near", { source: share, target: "backup/share", scheduler: "syncoid", interval: INTERVAL }, { ...onSource, dependsOn: [backup] });
    }
    const shareSettings = { clients: ["127.0.0.1"], access: "rw" as const };
    const live = failover ? { connection, path: "/backup/share" } : { connection, path: "/tank/share" };
    const exp = new NfsExport(failover ? "share-replica" : "share", { ...shareSettings, ...live }, { ...onSource, dependsOn: [share ?? backup] });
    new GuestMount("share", { connection, where: MOUNT, nfs: { server: "127.0.0.1", exportPath: live.path, version: "4.2" } }, { dependsOn: [exp] });
  };

  /**
   * The in-process engine has no `retainOnDelete` (its mocks never see resource options): it
   * would delete what left the program. `pulumi state delete` of the dead host's resources is
   * what Pulumi does with them, so the test does that to the engine's state file.
   */
  const forgetDeadHost = (): string[] => {
    const file = path.join(dir, "state.json");
    const st = JSON.parse(fs.readFileSync(file, "utf8")) as { resources: { name: string }[] };
    const dead = st.resources.map((r) => r.name).filter((n) => /^(tank|share|near)-/.test(n) && n !== "share-mount");
    st.resources = st.resources.filter((r) => !dead.includes(r.name));
    fs.writeFileSync(file, JSON.stringify(st, null, 2));
    return dead;
  };

  const cli = (...args: string[]) => runCli(registerFailover, "failover", ...args);

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

  scenario(lane, "failover drill: the guest's NFS mount moves to the promoted replica; its files are the recovery point; outage measured; the way back", async () => {
    const { host, connection } = lane.guest;
    // The stack is up with the share exported and mounted (the scenarios above, or here on its own).
    const up = await engine.up(stack());
    expect(up.errors).toEqual([]);
    await host.run(["sh", "-c", "chown 65534:65534 /tank/share && echo old > /tank/share/side && sync"]);
    await host.run(["sh", "-c", "mkdir -p /etc/nfs.conf.d && printf '[nfsd]\\ngrace-time=10\\nlease-time=10\\n' > /etc/nfs.conf.d/kvmshare-vm-grace.conf"]);
    expect((await host.run(["findmnt", "-n", "-o", "SOURCE", MOUNT])).stdout.trim()).toBe("127.0.0.1:/tank/share");
    // The guest's applications: a reader (the outage) and a writer (what the replica must hold).
    await host.writeFileAtomic("/root/reader.sh", READER, { mode: "0755" });
    await host.writeFileAtomic("/root/writer.sh", WRITER, { mode: "0755" });
    await host.run(["sh", "-c", "rm -f /root/reads.log /root/writes.log; setsid -f /root/reader.sh; setsid -f /root/writer.sh"]);
    const journalText = async () => (await host.run(["journalctl", "-t", "kvmshare-replication", "--no-pager", "-o", "cat"])).stdout;
    const guestPid = async (f: string) => (await host.readFile(f))!.trim();
    const t0 = Math.floor(Date.now() / 1000);
    // Two good runs that started after the writer did: the replica holds some of its files.
    const state = async () => (await host.readFile("/var/lib/kvmshare/replication/near.state")) ?? "";
    for (let i = 0; ; i++) {
      const st = await state();
      const ok = Number(/^last_success=(\d+)$/m.exec(st)?.[1] ?? 0);
      if (ok > t0 + INTERVAL) break;
      if (i > 60) throw new Error(`no good run after the writer started within 3 min:\n${st}`);
      await sleep(3000);
    }
    await sleep(Math.random() * INTERVAL * 1000); // the cut-off lands anywhere within a run's cycle

    // The source dies: its replication killed hard, its export withdrawn, its pool gone.
    // (every time here is the guest's clock: a TCG guest's clock is not this machine's)
    const died = Number((await host.run(["sh", "-c", 'systemctl kill -s KILL "$1" && date +%s%3N', "sh", SERVICE])).stdout.trim());
    await host.run(["systemctl", "stop", SERVICE]);
    await host.run(["sh", "-c", 'kill -9 "$1"', "sh", await guestPid("/root/writer.pid")]);
    // Its NFS server goes with it: what it held (open state, delegations) pinned the dataset.
    // (One guest plays both hosts: the restarted server stands for the replica host's, whose
    // grace period the setup shortened to 10 s; promote and the stack change take longer.)
    await host.run(["sh", "-c", "rm -f /etc/exports.d/share.exports && exportfs -ra && systemctl restart nfs-server && for i in 1 2 3 4 5 6 7 8 9 10; do zpool export tank && exit 0; sleep 1; done; exit 1"]);
    const grace = (await host.readFile("/proc/fs/nfsd/nfsv4gracetime"))?.trim();
    expect((await host.run(["zpool", "list", "-H", "-o", "name"])).stdout).not.toMatch(/^tank$/m);

    // `kvmshare failover promote`, the real CLI, reaching the guest over SSH.
    const keyFile = path.join(dir, "guest-key");
    fs.writeFileSync(keyFile, connection.privateKey!, { mode: 0o600 });
    const at = ["--host", "127.0.0.1", "--port", String(connection.port), "--key", keyFile, "--host-key", connection.hostKeySha256!];
    const promoted = await cli("promote", "backup/share", "--json", ...at);
    expect(promoted).toMatchObject({ code: 0 });
    const res = JSON.parse(promoted.out) as { snapshot: string; snapshotCreation: number; madeWritable: boolean; seconds: number };
    expect(res.snapshot).toMatch(/^backup\/share@syncoid_near_/);
    expect(res.madeWritable).toBe(true);
    expect((await host.run(["zfs", "get", "-H", "-o", "value", "readonly", "backup/share"])).stdout.trim()).toBe("off");
    // The on-call marks the new side, so the reader can tell the shares apart.
    await host.run(["sh", "-c", "echo new > /backup/share/side && sync"]);

    // The documented stack change: the export and the guest's mount follow the switch.
    expect(forgetDeadHost()).toEqual(expect.arrayContaining(["tank-pool", "near-syncoid", "share-export"]));
    const moved = await engine.up(stack(true));
    expect(moved.errors).toEqual([]);
    expect(moved.changes.map((c) => `${c.op} ${c.name}`).sort()).toEqual(["create share-replica-export", "update share-mount"]);
    expect((await host.run(["findmnt", "-n", "-o", "SOURCE", MOUNT])).stdout.trim()).toBe("127.0.0.1:/backup/share");
    expect((await host.run(["exportfs", "-v"])).stdout).toMatch(/^\/backup\/share\s+127\.0\.0\.1\(.*\brw\b.*root_squash/m);
    let reads: { t: number; v: string }[] = [];
    for (let i = 0; !reads.some((r) => r.v === "new"); i++) {
      if (i > 150) throw new Error(`the guest's reader never read the promoted share:\n${(await host.readFile("/root/reads.log"))?.slice(-2000)}`);
      await sleep(1000);
      reads = ((await host.readFile("/root/reads.log")) ?? "").trim().split("\n").map((l) => ({ t: Number(l.split(" ")[0]) / 1e6, v: l.split(" ")[1] })).sort((a, b) => a.t - b.t);
    }
    await host.run(["sh", "-c", 'kill "$1"', "sh", await guestPid("/root/reader.pid")]);
    const lastOld = reads.filter((r) => r.v === "old").pop()!.t;
    const firstNew = reads.find((r) => r.v === "new")!.t;
    const outage = (firstNew - lastOld) / 1000;
    expect(outage).toBeGreaterThan(0);

    // The guest's files against the recovery point: every write that completed before the
    // snapshot was taken is there, byte-identical, read through the moved mount.
    const writes = ((await host.readFile("/root/writes.log")) ?? "").trim().split("\n").map((l) => l.split(" ")).map(([i, ns, sum]) => ({ i, t: Number(ns) / 1e9, sum }));
    const before = writes.filter((w) => w.t < res.snapshotCreation);
    expect(before.length).toBeGreaterThanOrEqual(10);
    const seen = new Map(
      (await host.run(["sh", "-c", `cd ${MOUNT}/w && sha256sum -- *`])).stdout.trim().split("\n").map((l) => [l.slice(66), l.slice(0, 64)] as [string, string]),
    );
    expect(before.filter((w) => seen.get(`f${w.i}`) !== w.sum)).toEqual([]);
    const late = writes.filter((w) => !seen.has(`f${w.i}`));
    const loss = (died - res.snapshotCreation * 1000) / 1000;
    process.stderr.write(
      `failover (OpenZFS guest): promote ${res.seconds.toFixed(2)} s (CLI over SSH); guest outage (last read on the old share to first read on the new) ${outage.toFixed(2)} s ` +
        `(source died -> first new read ${((firstNew - died) / 1000).toFixed(2)} s, incl. promote and the stack change); recovery point ${loss.toFixed(1)} s before the cut-off (promise ${2 * INTERVAL} s); ` +
        `${before.length} files written before it all there byte-identical, ${late.length} later writes lost; NFSv4 grace ${grace} s\n`,
    );
    // The recovery point is at least the newest good run's (its start, the state file's last_success),
    // and the promise holds unless the loop said it fell behind (TCG on a busy machine can).
    const st = await state();
    // (or newer: the killed run may have finished its receive before it could write the state)
    expect(res.snapshotCreation).toBeGreaterThanOrEqual(Number(/^last_success=(\d+)$/m.exec(st)![1]) - 2);
    if (loss > 2 * INTERVAL) expect(await journalText()).toMatch(/near: falling behind: the run took \d+ s/);
    await host.run(["sh", "-c", `echo after > ${MOUNT}/after-failover.txt && sync`]);

    // The way back, once the old host is up: resync refused while the old source holds writes
    // the replica never got, done with --allow-destroy.
    await host.run(["zpool", "import", "tank"]);
    expect(late.length).toBeGreaterThan(0);
    const lateFile = `/tank/share/w/f${late[0].i}`;
    expect((await host.run(["test", "-f", lateFile], { check: false })).code).toBe(0);
    const refused = await cli("resync", "backup/share", "tank/share", ...at);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/has diverged .*Nothing was sent or destroyed.*pass --allow-destroy/s);
    expect((await host.run(["test", "-f", lateFile], { check: false })).code).toBe(0);
    const done = await cli("resync", "backup/share", "tank/share", "--allow-destroy", ...at);
    expect(done).toMatchObject({ code: 0, out: expect.stringMatching(/^RESYNCED tank\/share on .* from backup\/share/) });
    expect(await host.readFile("/tank/share/after-failover.txt")).toBe("after\n");
    expect((await host.run(["test", "-e", lateFile], { check: false })).code).not.toBe(0);
    expect((await host.run(["zfs", "get", "-H", "-o", "value", "readonly", "tank/share"])).stdout.trim()).toBe("on");
  }, 900_000);
});
