/**
 * Near-continuous replication and the failover drill on a real zfs-fuse with the real syncoid,
 * through the in-process engine. No systemd runs here as PID 1: the loop service is installed
 * under an alternate root (enabled offline, verified by `systemd-analyze verify`) and its script
 * is run by hand, as systemd would run it; a `logger` stand-in on PATH records the journal lines.
 *
 * Proves: the interval (runs start on the grid), bounded snapshots (one own snapshot per side,
 * failed runs' snapshots removed, a hand snapshot untouched), no overlap (a second copy exits 75),
 * lag reporting (state file -> drift at preview --refresh, textfile, journal line), and the
 * failover drill (`kvmshare failover promote`, the files checked against the recovery point, the
 * outage measured; `kvmshare failover resync` refused without --allow-destroy, then done with it).
 * The same on OpenZFS: test/vm/storage-openzfs.test.ts (VM lane).
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { treeSha256 as tree } from "../fixtures/files";
import { register as registerFailover } from "../../cli/failover";
import { runCli } from "../fixtures/cli";
import { ZfsDataset, ZfsPool } from "../../components/storage";
import { ZfsReplication } from "../../components/protection";
import { kind } from "../../components/protection/syncoidReplicationKind";
import { resolveZfsReplication } from "../../components/protection/zfsReplicationArgs";
import { LocalHost } from "../../core/connection";
import { Engine } from "../harness/engine";
import { acquireZfsFuse, cleanUpZfsTest, ZfsFuseLease, zfsFuseUnavailable } from "../fixtures/zfsFuse";
import { startSshd } from "../fixtures/sshd";

process.env.KVMSHARE_QUIET ??= "1";
jest.setTimeout(240_000);

const required = process.env.CI === "true" || process.env.KVMSHARE_VM_REQUIRED === "1";
const missing = zfsFuseUnavailable() ?? (spawnSync("sh", ["-c", "command -v syncoid && command -v flock"]).status !== 0 ? "syncoid/flock are not installed (apt-get install sanoid util-linux)" : undefined);
if (missing) process.stderr.write(`\n# storage-continuous: ${missing} -- ${required ? "FAILING (CI)" : "SKIPPING"}\n`);
const describeIf = missing && !required ? describe.skip : describe;

const zfs = (...args: string[]) => execFileSync("zfs", args, { encoding: "utf8" }).trim();
const snaps = (ds: string) => zfs("list", "-H", "-t", "snapshot", "-o", "name", "-r", ds).split("\n").filter(Boolean).map((s) => s.split("@")[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `zfs get ... -t snapshot ...` for zfs-fuse: the same get without `-t`, snapshot lines only. */
const ZFS_GET_T_SHIM = `#!/bin/sh
[ "$1" = get ] || exec /usr/sbin/zfs "$@"
snap=0; next=0
for a do
  shift
  if [ "$next" = 1 ]; then next=0; if [ "$a" = snapshot ]; then snap=1; else set -- "$@" -t "$a"; fi; continue; fi
  if [ "$a" = -t ]; then next=1; continue; fi
  set -- "$@" "$a"
done
[ "$snap" = 1 ] || exec /usr/sbin/zfs "$@"
out=$(/usr/sbin/zfs "$@") || exit $?
printf '%s\\n' "$out" | awk -F '\\t' 'index($1, "@") > 0'
`;

function remount(ds: string): string {
  for (let i = 0; ; i++) {
    spawnSync("zfs", ["umount", ds]);
    if (spawnSync("zfs", ["mount", ds]).status === 0 || i >= 40) break;
    spawnSync("sleep", ["0.5"]);
  }
  return zfs("get", "-H", "-o", "value", "mountpoint", ds);
}

/** `zfs destroy`, retried while zfs-fuse says "busy" (a moment after use, or while another test's namespace holds the mount). */
function destroyBusy(ds: string): void {
  for (let i = 0; ; i++) {
    const r = spawnSync("zfs", ["destroy", ds], { encoding: "utf8" });
    if (r.status === 0) return;
    if (i >= 40 || !/busy/.test(r.stderr)) throw new Error(`zfs destroy ${ds}: ${r.stderr}`);
    spawnSync("sleep", ["0.5"]);
  }
}

describeIf("near-continuous replication and the failover drill on zfs-fuse", () => {
  if (missing) {
    it("has what it needs", () => {
      throw new Error(missing);
    });
    return;
  }
  const src = `kc${process.pid}s`;
  const dst = `kc${process.pid}t`;
  const srcDs = `${src}/vm`;
  const dstDs = `${dst}/vm`;
  const INTERVAL = 5;
  let lease: ZfsFuseLease;
  let dir: string;
  let root: string;
  let engine: Engine;
  const started: ChildProcess[] = [];
  const service = "kvmshare-syncoid-near.service";
  const own = (ds: string) => snaps(ds).filter((s) => s.startsWith("syncoid_near_"));

  const replicationArgs = () =>
    ({ target: dstDs, scheduler: "syncoid", interval: `${INTERVAL}s`, root, activation: "enable", stateDir: path.join(dir, "state"), textfileDir: path.join(dir, "textfile") }) as const;
  const program = (withReplication: boolean | "calendar" = true) => () => {
    const s = new ZfsPool("src", { poolName: src, vdevs: [{ type: "disk", devices: [path.join(dir, "s0")] }], fileSizeMiB: 256, mountpoint: path.join(dir, "src"), allowDestroy: true });
    const t = new ZfsPool("dst", { poolName: dst, vdevs: [{ type: "disk", devices: [path.join(dir, "t0")] }], fileSizeMiB: 256, mountpoint: path.join(dir, "dst"), allowDestroy: true });
    const d = new ZfsDataset("vm", { pool: s, datasetName: srcDs });
    if (withReplication === "calendar") {
      const { interval: _loop, stateDir: _s, textfileDir: _t, ...calendar } = replicationArgs();
      new ZfsReplication("near", { ...calendar, source: d, intervalMinutes: 15 }, { dependsOn: [t] });
    } else if (withReplication) new ZfsReplication("near", { ...replicationArgs(), source: d }, { dependsOn: [t] });
  };
  const script = (name = "near") => path.join(root, `usr/local/lib/kvmshare/kvmshare-replicate-${name}.sh`);
  const env = (runs?: number) => ({ ...process.env, TZ: "UTC", PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, ...(runs ? { KVMSHARE_REPLICATE_RUNS: String(runs) } : {}) });
  /** The loop as systemd runs it, in its own process group (kill -9 of the group = the service's cgroup killed). */
  const startLoop = (runs?: number, name = "near") => {
    const p = spawn("sh", [script(name)], { detached: true, stdio: ["ignore", "pipe", "pipe"], env: env(runs) });
    started.push(p);
    let out = "";
    p.stdout!.on("data", (b) => (out += b));
    p.stderr!.on("data", (b) => (out += b));
    const done = new Promise<{ code: number | null; out: string }>((res) => p.on("close", (code) => res({ code, out })));
    return { p, done };
  };
  const journal = () => (fs.existsSync(path.join(dir, "journal")) ? fs.readFileSync(path.join(dir, "journal"), "utf8") : "");
  const state = (name = "near") => fs.readFileSync(path.join(dir, "state", `${name}.state`), "utf8");
  const textfile = (name = "near") => fs.readFileSync(path.join(dir, "textfile", `kvmshare_replication_${name}.prom`), "utf8");

  const cli = (...args: string[]) => runCli(registerFailover, "failover", ...args);

  beforeAll(async () => {
    lease = await acquireZfsFuse();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-cont-"));
    fs.chmodSync(dir, 0o700);
    root = path.join(dir, "root");
    fs.mkdirSync(root);
    fs.mkdirSync(path.join(dir, "bin"));
    // The journal, as far as this test can see it: logger's tag, priority and message.
    fs.writeFileSync(path.join(dir, "bin", "logger"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${path.join(dir, "journal")}'\n`, { mode: 0o755 });
    engine = new Engine({ stateFile: path.join(dir, "state.json") });
  });

  afterAll(async () => {
    for (const p of started) {
      try {
        process.kill(-p.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    await cleanUpZfsTest(lease, dir, [src, dst]);
  });

  it("installs the loop service (verified, enabled) and states the RPO it promises", async () => {
    const r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(r.outputs["near-syncoid"].schedule).toMatchObject({ intervalSeconds: INTERVAL, rpoSeconds: 2 * INTERVAL });
    expect(fs.readlinkSync(path.join(root, "etc/systemd/system/multi-user.target.wants", service))).toBe(`/etc/systemd/system/${service}`);
    expect(fs.existsSync(path.join(root, "etc/systemd/system/kvmshare-syncoid-near.timer"))).toBe(false);
    expect(fs.readFileSync(script(), "utf8")).toContain(`syncoid --identifier=near --no-rollback ${srcDs} ${dstDs}`);
  });

  it("holds the interval, never overlaps, keeps one own snapshot a side, leaves other snapshots alone", async () => {
    const mnt = zfs("get", "-H", "-o", "value", "mountpoint", srcDs);
    execFileSync("zfs", ["snapshot", `${srcDs}@mine`]);
    const fd = fs.openSync(path.join(mnt, "records.log"), "a");
    const w = setInterval(() => fs.writeSync(fd, `${Date.now()}\n`), 300);
    const t0 = Date.now();
    const loop = startLoop(4);
    await sleep(1500);
    // a second copy (a hand run, a restart racing the old process) does not start a second run
    const second = await startLoop(1).done;
    expect(second.code).toBe(75);
    expect(journal()).toMatch(/another run holds .*near\.lock; not starting a second one \(runs never overlap\)/);
    const r = await loop.done;
    clearInterval(w);
    fs.closeSync(fd);
    const elapsed = (Date.now() - t0) / 1000;
    expect(r.code).toBe(0);
    // 4 runs start at 0, 5, 10, 15 s on the grid; the last run's own time comes on top
    const lastRun = Number(/last_run_ms=(\d+)/.exec(state())![1]) / 1000;
    expect(elapsed).toBeGreaterThanOrEqual(3 * INTERVAL);
    expect(elapsed).toBeLessThan(3 * INTERVAL + lastRun + 2);
    expect(state()).toMatch(/^runs=4$/m);
    expect(own(srcDs)).toHaveLength(1);
    expect(own(dstDs)).toEqual(own(srcDs));
    expect(snaps(srcDs)).toContain("mine");
    // the textfile node_exporter reads
    const prom = textfile();
    expect(prom).toMatch(/^kvmshare_replication_last_run_ok\{replication="near",source="[^"]+",target="[^"]+"\} 1$/m);
    expect(prom).toMatch(/^kvmshare_replication_lag_bytes\{.*method="[a-z-]+"\} \d+$/m);
    expect(prom).toMatch(/^kvmshare_replication_rpo_seconds\{.*\} 10$/m);
    expect(prom).toMatch(/^kvmshare_replication_last_success_age_seconds\{.*\} [0-9]$/m);
    // the target has the records
    expect(fs.readFileSync(path.join(remount(dstDs), "records.log"), "utf8").length).toBeGreaterThan(0);
    // ... and preview --refresh finds nothing to change while it keeps its promise
    const p = await engine.preview(program(), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.map((s) => `${s.op} ${s.name} ${s.diffs.join(",")}`)).toEqual([]);
  });

  it("a run that fails is visible: journal line, textfile, drift at preview --refresh; its snapshot is pruned", async () => {
    // the target written to by hand: syncoid --no-rollback refuses to receive (as with a target out of space or a broken key)
    execFileSync("zfs", ["set", "readonly=off", dstDs]);
    fs.writeFileSync(path.join(remount(dstDs), "local-only.txt"), "made on the backup\n");
    execFileSync("sync");
    fs.appendFileSync(path.join(zfs("get", "-H", "-o", "value", "mountpoint", srcDs), "records.log"), `${Date.now()}\n`);
    await sleep(1100); // syncoid's snapshot names have 1 s resolution
    const before = own(srcDs);
    const r = await startLoop(1).done;
    expect(r.code).not.toBe(0);
    expect(own(srcDs)).toEqual(before);
    expect(journal()).toMatch(/kvmshare-replication -p daemon\.err -- near: run failed \(exit \d+\) after \d+ s: .+; newest replicated data: \d+ s old \(RPO 10 s\)/);
    expect(textfile()).toMatch(/^kvmshare_replication_last_run_ok\{.*\} 0$/m);
    expect(textfile()).toMatch(/^kvmshare_replication_failures_total\{.*\} 1$/m);
    const p = await engine.preview(program(), { refresh: true });
    expect(p.errors).toEqual([]);
    expect(p.changes.map((s) => `${s.op} ${s.name} ${s.diffs.join(",")}`)).toEqual([expect.stringMatching(/^update near-syncoid .*lag/)]);
    // what the drift carries: the probe's reading of the loop's state file
    const observed = await kind.probe(new LocalHost(), resolveZfsReplication("near", { ...replicationArgs(), source: srcDs }), {});
    expect(observed?.lag).toMatch(/^the last run failed \(exit \d+\): CRITICAL ERROR: .*zfs receive/);
    expect(fs.readFileSync(path.join(remount(dstDs), "local-only.txt"), "utf8")).toBe("made on the backup\n");
    // put the target back the way replication left it (by hand: kvmshare never does this)
    execFileSync("zfs", ["rollback", `${dstDs}@${own(dstDs).pop()}`]);
    execFileSync("zfs", ["set", "readonly=on", dstDs]);
    const ok = await startLoop(1).done;
    expect(ok.code).toBe(0);
    expect(journal()).toMatch(/daemon\.notice -- near: caught up: the target has the data of \d{4}-\d\d-\d\dT/);
    expect(textfile()).toMatch(/^kvmshare_replication_last_run_ok\{.*\} 1$/m);
  });

  it("a target out of space is lag too; freed, the loop catches up", async () => {
    const used = Number(zfs("get", "-H", "-p", "-o", "value", "used", dst));
    execFileSync("zfs", ["set", `quota=${used + 1024 * 1024}`, dst]);
    try {
      fs.writeFileSync(path.join(zfs("get", "-H", "-o", "value", "mountpoint", srcDs), "big.bin"), Buffer.alloc(8 * 1024 * 1024, 7));
      execFileSync("sync");
      await sleep(1100);
      const r = await startLoop(1).done;
      expect(r.code).not.toBe(0);
      expect(state()).toMatch(/^last_error=.*(out of space|quota exceeded|failed)/m);
      const observed = await kind.probe(new LocalHost(), resolveZfsReplication("near", { ...replicationArgs(), source: srcDs }), {});
      expect(observed?.lag).toMatch(/^the last run failed \(exit \d+\)/);
    } finally {
      execFileSync("zfs", ["set", "quota=none", dst]);
    }
    await sleep(1100);
    expect((await startLoop(1).done).code).toBe(0);
    expect(journal().trim().split("\n").pop()).toMatch(/near: caught up/);
  });

  it("a broken SSH key is lag: the target's sshd refuses the key -> failed runs, age growing, drift naming it; the key back, it catches up", async () => {
    // An SSH target (this machine's own zfs-fuse behind an sshd on 127.0.0.1): its own engine and
    // replication, so the other scenarios' programs stay as they are.
    const sshDir = path.join(dir, "sshd");
    fs.mkdirSync(sshDir, { mode: 0o700 });
    // zfs-fuse has no `zfs get -t`; syncoid 2.1.0 then falls back to a listing that prefixes ssh
    // twice over SSH (exit 127 on the target). The target's sessions get a zfs that drops
    // `-t snapshot` from a `get` and keeps the snapshot lines (what OpenZFS answers).
    const tbin = path.join(dir, "target-bin");
    fs.mkdirSync(tbin);
    fs.writeFileSync(path.join(tbin, "zfs"), ZFS_GET_T_SHIM, { mode: 0o755 });
    const sshd = await startSshd(sshDir, [`SetEnv PATH=${tbin}:/usr/sbin:/usr/bin:/sbin:/bin`]);
    const keyFile = path.join(dir, "replication_key");
    fs.writeFileSync(keyFile, sshd.spec.privateKey!, { mode: 0o600 });
    // syncoid runs `ssh` with StrictHostKeyChecking=yes: the host key is pinned in a known_hosts
    // of this test's own (a wrapper on the loop's PATH), never root's ~/.ssh.
    const hostKey = fs.readFileSync(path.join(sshDir, "host_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
    fs.writeFileSync(path.join(dir, "known_hosts"), `[127.0.0.1]:${sshd.spec.port} ${hostKey}\n`);
    fs.writeFileSync(path.join(dir, "bin", "ssh"), `#!/bin/sh\nexec /usr/bin/ssh -o UserKnownHostsFile='${path.join(dir, "known_hosts")}' -o GlobalKnownHostsFile=/dev/null "$@"\n`, { mode: 0o755 });
    const authorized = fs.readFileSync(path.join(sshDir, "authorized_keys"), "utf8");
    // 30 s: a run over SSH on this shared machine stays within it, so only the key makes lag.
    const farArgs = { ...replicationArgs(), interval: "30s" };
    const farEngine = new Engine({ stateFile: path.join(dir, "far-state.json") });
    const far = (declared = true) => () => {
      if (!declared) return;
      new ZfsReplication("far", { ...farArgs, source: srcDs, target: `${dst}/far`, sshTarget: { host: "127.0.0.1", port: sshd.spec.port, keyFile } });
    };
    const lastSuccess = () => Number(/^kvmshare_replication_last_success_timestamp_seconds\{.*\} (\d+)$/m.exec(textfile("far"))![1]);
    const age = () => Number(/^kvmshare_replication_last_success_age_seconds\{.*\} (-?\d+)$/m.exec(textfile("far"))![1]);
    const srcMnt = zfs("get", "-H", "-o", "value", "mountpoint", srcDs);
    try {
      expect((await farEngine.up(far())).errors).toEqual([]);
      expect(fs.readFileSync(script("far"), "utf8")).toContain(`--sshkey=${keyFile} --sshport=${sshd.spec.port}`);
      const first = await startLoop(1, "far").done;
      expect(first).toMatchObject({ code: 0 });
      const farOwn = () => snaps(srcDs).filter((x) => x.startsWith("syncoid_far_"));
      const good = farOwn();
      expect(good).toHaveLength(1);
      expect(snaps(`${dst}/far`)).toContain(good[0]);
      expect(textfile("far")).toMatch(/^kvmshare_replication_last_run_ok\{.*\} 1$/m);

      // The key is taken off the target: every run fails at ssh.
      fs.writeFileSync(path.join(sshDir, "authorized_keys"), "");
      fs.appendFileSync(path.join(srcMnt, "records.log"), `${Date.now()}\n`);
      await sleep(1100);
      const broken = await startLoop(1, "far").done;
      expect(broken.code).not.toBe(0);
      expect(farOwn()).toEqual(good); // the failed run's snapshot is gone again
      expect(state("far")).toMatch(/^last_exit=[1-9]\d*$/m);
      // syncoid's own line names the cause: its ssh test connection to the target failed.
      const sshFailed = "CRITICAL ERROR: ssh connection echo test failed for root@127\\.0\\.0\\.1 with exit code 255";
      expect(state("far")).toMatch(new RegExp(`^last_error=${sshFailed}`, "m"));
      expect(journal()).toMatch(new RegExp(`daemon\\.err -- far: run failed \\(exit \\d+\\) after \\d+ s: ${sshFailed}.*; newest replicated data: \\d+ s old \\(RPO 60 s\\)`));
      expect(textfile("far")).toMatch(/^kvmshare_replication_last_run_ok\{.*\} 0$/m);
      const age1 = age();
      await sleep(2100);
      expect((await startLoop(1, "far").done).code).not.toBe(0);
      const age2 = age();
      expect(age2).toBeGreaterThanOrEqual(age1 + 2); // the last success only grows older
      expect(textfile("far")).toMatch(/^kvmshare_replication_failures_total\{.*\} 2$/m);
      const p = await farEngine.preview(far(), { refresh: true });
      expect(p.errors).toEqual([]);
      expect(p.changes.map((c) => `${c.op} ${c.name} ${c.diffs.join(",")}`)).toEqual([expect.stringMatching(/^update far-syncoid .*lag/)]);
      const spec = resolveZfsReplication("far", { ...farArgs, source: srcDs, target: `${dst}/far`, sshTarget: { host: "127.0.0.1", port: sshd.spec.port, keyFile } });
      const observed = await kind.probe(new LocalHost(), spec, {});
      expect(observed?.lag).toMatch(new RegExp(`^the last run failed \\(exit \\d+\\): ${sshFailed}`));

      // The key back: the next run catches up and says so.
      fs.writeFileSync(path.join(sshDir, "authorized_keys"), authorized);
      const keyBack = Date.now();
      expect(await startLoop(1, "far").done).toMatchObject({ code: 0 });
      expect(journal().trim().split("\n").pop()).toMatch(/daemon\.notice -- far: caught up: the target has the data of /);
      expect(textfile("far")).toMatch(/^kvmshare_replication_last_run_ok\{.*\} 1$/m);
      // the newest replicated data is from after the key came back (the run's start)
      expect(lastSuccess()).toBeGreaterThanOrEqual(Math.floor(keyBack / 1000));
      const clean = await farEngine.preview(far(), { refresh: true });
      expect(clean.changes.map((c) => `${c.op} ${c.name} ${c.diffs.join(",")}`)).toEqual([]);
    } finally {
      await farEngine.up(far(false));
      await sshd.stop();
      for (const s of snaps(srcDs).filter((x) => x.startsWith("syncoid_far_"))) destroyBusy(`${srcDs}@${s}`);
    }
  });

  it("failover: source cut off hard, replica promoted read-write at its newest snapshot, files = the recovery point, outage measured", async () => {
    const srcMnt = zfs("get", "-H", "-o", "value", "mountpoint", srcDs);
    const fd = fs.openSync(path.join(srcMnt, "records.log"), "a");
    const w = setInterval(() => {
      fs.writeSync(fd, `${Date.now()}\n`);
      fs.fsyncSync(fd);
    }, 1000);
    const loop = startLoop();
    await sleep(3 * INTERVAL * 1000 + Math.random() * INTERVAL * 1000);
    // the source host dies: its replication killed mid-whatever, its writes stop
    process.kill(-loop.p.pid!, "SIGKILL");
    const cut = Date.now();
    clearInterval(w);
    fs.closeSync(fd);
    // what never made it to the replica (the way back must not discard it silently)
    fs.writeFileSync(path.join(srcMnt, "late.txt"), "written after the last replicated snapshot\n");
    // a guest reads the share; its last good read on the old one is just before the cut
    const lastOldRead = Date.now();
    expect(fs.readFileSync(path.join(srcMnt, "records.log"), "utf8").length).toBeGreaterThan(0);

    const promoted = await cli("promote", dstDs, "--json");
    expect(promoted.err + promoted.code).toMatch(/promoted .* read-write at syncoid_near_.*0$/s);
    const res = JSON.parse(promoted.out);
    const newMnt = res.mountpoint as string;
    const firstNewRead = Date.now();
    const records = fs.readFileSync(path.join(newMnt, "records.log"), "utf8").trim().split("\n");
    const outage = (Date.now() - lastOldRead) / 1000;
    const loss = (cut - Number(records[records.length - 1])) / 1000;
    process.stderr.write(`failover: promote ${res.seconds.toFixed(2)} s, outage (last read on the old share to first read on the new) ${((firstNewRead - lastOldRead) / 1000).toFixed(2)} s (${outage.toFixed(2)} s incl. the read), data lost ${loss.toFixed(2)} s (promise ${2 * INTERVAL} s)\n`);
    if (loss > 2 * INTERVAL) process.stderr.write(`state:\n${state()}\njournal:\n${journal()}\nsnapshots: ${snaps(dstDs).join(" ")} / ${snaps(srcDs).join(" ")}\n`);
    expect(loss).toBeLessThanOrEqual(2 * INTERVAL);
    expect(res).toMatchObject({ dataset: dstDs, madeWritable: true });
    expect(zfs("get", "-H", "-o", "value", "readonly", dstDs)).toBe("off");
    // the guest's files are the recovery point's: a clone of the source at that snapshot
    const recovery = (res.snapshot as string).split("@")[1];
    execFileSync("zfs", ["clone", `${srcDs}@${recovery}`, `${src}/check`]);
    expect(tree(newMnt)).toEqual(tree(zfs("get", "-H", "-o", "value", "mountpoint", `${src}/check`)));
    destroyBusy(`${src}/check`);
    // read-write now
    fs.writeFileSync(path.join(newMnt, "after-failover.txt"), "written on the promoted replica\n");
    // promoting again changes nothing and says so
    const again = await cli("promote", dstDs);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/already read-write .* left as it is, nothing rolled back/);
  });

  it("the way back: resync of the old source is refused while it holds data the replica lacks, done with --allow-destroy", async () => {
    execFileSync("sync");
    const refused = await cli("resync", dstDs, srcDs);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(new RegExp(`target: ${srcDs} on local has diverged from ${dstDs} on local: .* Nothing was sent or destroyed\\. .*pass --allow-destroy`));
    expect(fs.readFileSync(path.join(zfs("get", "-H", "-o", "value", "mountpoint", srcDs), "late.txt"), "utf8")).toMatch(/after the last replicated/);

    const done = await cli("resync", dstDs, srcDs, "--allow-destroy");
    expect(done.err + done.code).toMatch(/send .* to .* on local: .*0$/s);
    expect(done.out).toMatch(`RESYNCED ${srcDs} on local from ${dstDs}`);
    const back = remount(srcDs);
    expect(fs.readFileSync(path.join(back, "after-failover.txt"), "utf8")).toBe("written on the promoted replica\n");
    expect(fs.existsSync(path.join(back, "late.txt"))).toBe(false);
    expect(tree(back)).toEqual(tree(zfs("get", "-H", "-o", "value", "mountpoint", dstDs)));
    // read-only again (asked unmounted: zfs-fuse reports a read-write remount as "off temporary")
    spawnSync("zfs", ["umount", srcDs]);
    expect(zfs("get", "-H", "-o", "value,source", "readonly", srcDs)).toBe("on\tlocal");
  });

  it("switching to the calendar timer and back leaves nothing of the other mode", async () => {
    const units = path.join(root, "etc/systemd/system");
    let r = await engine.up(program("calendar"));
    expect(r.errors).toEqual([]);
    expect(fs.existsSync(script())).toBe(false);
    expect(fs.existsSync(path.join(units, "multi-user.target.wants", service))).toBe(false);
    expect(fs.readlinkSync(path.join(units, "timers.target.wants/kvmshare-syncoid-near.timer"))).toBe("/etc/systemd/system/kvmshare-syncoid-near.timer");
    expect(fs.readFileSync(path.join(units, service), "utf8")).toMatch(/^Type=oneshot$/m);
    r = await engine.up(program());
    expect(r.errors).toEqual([]);
    expect(fs.existsSync(path.join(units, "kvmshare-syncoid-near.timer"))).toBe(false);
    expect(fs.existsSync(path.join(units, "timers.target.wants/kvmshare-syncoid-near.timer"))).toBe(false);
    expect(fs.readlinkSync(path.join(units, "multi-user.target.wants", service))).toBe(`/etc/systemd/system/${service}`);
    expect(fs.existsSync(script())).toBe(true);
  });

  it("leaving the program removes the service, script, textfile and state; every snapshot stays", async () => {
    const before = [snaps(srcDs), snaps(dstDs)];
    const r = await engine.up(program(false));
    expect(r.errors).toEqual([]);
    for (const f of [path.join(root, "etc/systemd/system", service), script(), path.join(root, "etc/systemd/system/multi-user.target.wants", service)]) expect(fs.existsSync(f)).toBe(false);
    expect(fs.existsSync(path.join(dir, "textfile", "kvmshare_replication_near.prom"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "state", "near.state"))).toBe(false);
    expect([snaps(srcDs), snaps(dstDs)]).toEqual(before);
  });
});
