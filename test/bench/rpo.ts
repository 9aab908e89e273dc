/**
 * Benchmark (not part of npm test): the data a near-continuous replication loses when its source
 * dies, measured, not computed. `npm run bench:rpo -- [cuts=30] [interval=5] [mode=records|stream|jitter]`
 * on zfs-fuse here; `npm run bench:rpo -- --guest [cuts] [interval] [jitterSeconds]` in the VM
 * lane's OpenZFS guest, with the monotonic timer measured against the loop (test/bench/rpo-guest.ts).
 *
 * records: a writer appends a timestamped record (`<seq> <epoch ms>`, fsynced) to a file on the
 *   source every second; the replication loop (the script ZfsReplication installs with
 *   `interval`, run as it runs under systemd, with the real syncoid) replicates it to another
 *   pool. At a random moment (after 2 intervals of warm-up, then uniformly within 2 intervals)
 *   the loop's whole process group is killed with SIGKILL (as systemd kills a service's cgroup
 *   when the host dies) and the writer stops: the cut-off. loss = cut-off time - the time of
 *   the newest record the target holds. Repeated `cuts` times on the same datasets (each cut restarts the loop).
 *   The newest record is read from the target's newest snapshot (a fresh clone of it): what a
 *   promote serves.
 * stream: the same, while a second writer rewrites a 64 MiB file at a steady ~20 MiB/s.
 * jitter: no ZFS; the same loop script with a 1 s stand-in for syncoid, 2 busy CPU hogs and a
 *   20 MiB/s disk writer as load, for `cuts` x interval seconds: how far each run's start lands
 *   from its grid point (p50/p99/max).
 *
 * Prints p50/p99/max and every sample as JSON. Everything it made is destroyed at the end.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { planSyncoidReplication } from "../../components/protection/syncoidReplication";
import { renderContinuous } from "../../components/protection/continuousReplication";
import { resolveZfsReplication } from "../../components/protection/zfsReplicationArgs";
import { privateTempDir } from "../fixtures/files";
import { acquireZfsFuse, cleanUpZfsTest } from "../fixtures/zfsFuse";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** p-th percentile (nearest rank) of the samples. */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function summary(what: string, xs: number[], unit: string): void {
  console.log(`${what}: n=${xs.length} p50=${pct(xs, 50).toFixed(2)} ${unit} p99=${pct(xs, 99).toFixed(2)} ${unit} max=${Math.max(...xs).toFixed(2)} ${unit}`);
  console.log(`samples: ${JSON.stringify(xs.map((x) => +x.toFixed(2)))}`);
}

/** Start a detached process group; kill -9 of the group stands in for systemd killing the service's cgroup. */
function startGroup(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(cmd, args, { detached: true, stdio: "ignore", env: { ...process.env, TZ: "UTC", ...env } });
}

function killGroup(p: ChildProcess): void {
  try {
    process.kill(-p.pid!, "SIGKILL");
  } catch {
    /* already gone */
  }
}

/** A writer: one `<seq> <epoch ms>` record a second, each fsynced; and optionally ~20 MiB/s of rewrites. */
function writer(dir: string, stream: boolean): { stop(): void } {
  let seq = 0;
  const fd = fs.openSync(path.join(dir, "records.log"), "a");
  const rec = setInterval(() => {
    fs.writeSync(fd, `${++seq} ${Date.now()}\n`);
    fs.fsyncSync(fd);
  }, 1000);
  let big: NodeJS.Timeout | undefined;
  let bfd: number | undefined;
  if (stream) {
    bfd = fs.openSync(path.join(dir, "stream.bin"), fs.existsSync(path.join(dir, "stream.bin")) ? "r+" : "w");
    const chunk = crypto.randomBytes(2 * 1024 * 1024);
    let off = 0;
    // 2 MiB every 100 ms = 20 MiB/s, cycling through 64 MiB.
    big = setInterval(() => {
      chunk[0]++;
      fs.writeSync(bfd!, chunk, 0, chunk.length, off);
      off = (off + chunk.length) % (64 * 1024 * 1024);
    }, 100);
  }
  return {
    stop() {
      clearInterval(rec);
      if (big) clearInterval(big);
      fs.closeSync(fd);
      if (bfd !== undefined) fs.closeSync(bfd);
    },
  };
}

/** `zfs destroy`, retried while zfs-fuse says "busy"; a dataset that does not exist is fine. */
function destroyRetried(ds: string): void {
  for (let i = 0; i < 20; i++) {
    const r = spawnSync("zfs", ["destroy", ds], { encoding: "utf8" });
    if (r.status === 0 || /does not exist/.test(r.stderr)) return;
    spawnSync("sleep", ["0.5"]);
  }
}

/**
 * The newest record in the target's newest snapshot: what a promote would serve. Read from a
 * fresh clone (zfs-fuse serves stale pages from a mount that received, and a remount can stay
 * "busy" while other namespaces hold a copy of the mount).
 */
function newestRecord(ds: string, cloneRoot: string, i: number): number {
  const snap = execFileSync("zfs", ["list", "-H", "-t", "snapshot", "-o", "name", "-s", "createtxg", "-r", ds], { encoding: "utf8" }).trim().split("\n").filter((l) => l.startsWith(`${ds}@`)).pop();
  if (!snap) return NaN;
  const clone = `${ds.split("/")[0]}/read${i}`;
  const mnt = path.join(cloneRoot, `read${i}`);
  execFileSync("zfs", ["clone", "-o", `mountpoint=${mnt}`, snap, clone]);
  try {
    const f = path.join(mnt, "records.log");
    const last = fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").pop()! : "";
    return Number(last.split(" ")[1]);
  } finally {
    destroyRetried(clone);
  }
}

async function rpo(cuts: number, interval: number, stream: boolean): Promise<void> {
  const lease = await acquireZfsFuse();
  const dir = privateTempDir("kvmshare-bench-rpo-");
  const src = `ksrpo${process.pid}s`;
  const dst = `ksrpo${process.pid}d`;
  const loops: ChildProcess[] = [];
  try {
    execFileSync("truncate", ["-s", "1536M", path.join(dir, "s0"), path.join(dir, "d0")]);
    execFileSync("zpool", ["create", "-m", path.join(dir, "src"), src, path.join(dir, "s0")]);
    execFileSync("zpool", ["create", "-m", path.join(dir, "dst"), dst, path.join(dir, "d0")]);
    execFileSync("zfs", ["create", "-o", "compression=off", `${src}/vm`]);
    const mnt = path.join(dir, "src", "vm");
    const spec = resolveZfsReplication("rpo", { source: `${src}/vm`, target: `${dst}/vm`, scheduler: "syncoid", interval, stateDir: path.join(dir, "state"), textfileDir: path.join(dir, "textfile") });
    const plan = planSyncoidReplication(spec);
    const script = path.join(dir, "replicate.sh");
    fs.writeFileSync(script, plan.continuous!.script);
    const losses: number[] = [];
    const runSecs: number[] = [];
    for (let i = 0; i < cuts; i++) {
      const w = writer(mnt, stream);
      const loop = startGroup("sh", [script]);
      loops.push(loop);
      await sleep(2 * interval * 1000 + Math.random() * 2 * interval * 1000);
      killGroup(loop);
      const cut = Date.now();
      w.stop();
      await sleep(300);
      const at = newestRecord(`${dst}/vm`, dir, i);
      const loss = Number.isFinite(at) && at > 0 ? (cut - at) / 1000 : NaN;
      const state = fs.readFileSync(path.join(dir, "state", "rpo.state"), "utf8");
      runSecs.push(Number(/last_run_ms=(\d+)/.exec(state)?.[1] ?? NaN) / 1000);
      losses.push(loss);
      process.stderr.write(`cut ${i + 1}/${cuts}: newest record on the target ${loss.toFixed(2)} s before the cut-off\n`);
      // zfs-fuse cannot resume: a receive cut mid-stream left nothing behind; the next loop starts over from the common snapshot.
    }
    const list = (ds: string) => execFileSync("zfs", ["list", "-H", "-t", "snapshot", "-o", "name", "-r", ds], { encoding: "utf8" }).trim().split("\n").filter((l) => l.startsWith(`${ds}@`));
    // one more good run (what the next cut would start with), then count: bounded means one own snapshot a side
    for (let i = 0; i < cuts; i++) destroyRetried(`${dst}/read${i}`); // clones a busy destroy left would hold their snapshots
    execFileSync("sh", [script], { env: { ...process.env, KVMSHARE_REPLICATE_RUNS: "1" }, stdio: "ignore" });
    const snaps = list(`${src}/vm`);
    const targetSnaps = list(`${dst}/vm`);
    console.log(`\nRPO on zfs-fuse (${stream ? "records + ~20 MiB/s rewrites" : "one record a second"}), interval ${interval} s, promise ${plan.schedule.rpoSeconds} s, ${cuts} cut-offs`);
    summary("loss (s)", losses.filter(Number.isFinite), "s");
    console.log(`NaN (target had no record yet): ${losses.filter((x) => !Number.isFinite(x)).length}`);
    summary("last run duration (s)", runSecs.filter(Number.isFinite), "s");
    console.log(`snapshots after one more good run: source ${snaps.length}, target ${targetSnaps.length} (${[...snaps, ...targetSnaps].join(", ")})`);
  } finally {
    for (const l of loops) killGroup(l);
    await cleanUpZfsTest(lease, dir, [src, dst]).catch((e) => console.error(String(e)));
  }
}

async function jitter(cuts: number, interval: number): Promise<void> {
  const dir = privateTempDir("kvmshare-bench-jitter-");
  const trace = path.join(dir, "starts");
  const f = renderContinuous({
    name: "jitter",
    source: "none/none",
    target: "none/none",
    localTarget: null,
    interval,
    syncoid: ["sh", "-c", `date +%s%N >> ${trace}; sleep 1`],
    post: null,
    stateDir: path.join(dir, "state"),
    textfileDir: path.join(dir, "textfile"),
  });
  const script = path.join(dir, "loop.sh");
  fs.writeFileSync(script, f.script);
  const hogs = [startGroup("sh", ["-c", "while :; do :; done"]), startGroup("sh", ["-c", "while :; do :; done"])];
  const disk = startGroup("sh", ["-c", `while :; do dd if=/dev/zero of=${path.join(dir, "big")} bs=2M count=10 conv=fsync 2>/dev/null; sleep 0.5; done`]);
  const loop = startGroup("sh", [script]);
  try {
    await sleep(cuts * interval * 1000 + 500);
  } finally {
    for (const p of [loop, ...hogs, disk]) killGroup(p);
  }
  const starts = fs.readFileSync(trace, "utf8").trim().split("\n").map((l) => Number(BigInt(l) / 1000000n));
  const errs = starts.map((t, i) => Math.abs(t - (starts[0] + i * interval * 1000)) / 1000);
  console.log(`\nloop start error under load (2 CPU hogs + 20 MiB/s fsynced writes), interval ${interval} s, ${starts.length} runs`);
  summary("|start - grid| (s)", errs.slice(1), "s");
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  // The same measurements in the VM lane's OpenZFS guest (test/bench/rpo-guest.ts).
  if (process.argv[2] === "--guest") return (await import("./rpo-guest")).main(process.argv.slice(3));
  const cuts = Number(process.argv[2] ?? 30);
  const interval = Number(process.argv[3] ?? 5);
  const mode = process.argv[4] ?? "records";
  if (mode === "jitter") await jitter(cuts, interval);
  else await rpo(cuts, interval, mode === "stream");
}

if (require.main === module) {
  main().catch((e) => {
    console.error("bench failed:", e);
    process.exitCode = 1;
  });
}
