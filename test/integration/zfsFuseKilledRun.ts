/**
 * The killed-run scenario of zfsFuse-killed-run.test.ts, run as its own process inside a private
 * mount namespace (the test sets that up): there zfs-fuse's socket, lock and pool cache are
 * private tmpfs directories, so this daemon never meets the machine's (or a parallel test's).
 *
 * 1. a lease of the helper starts zfs-fuse; a test pool is created on a file vdev;
 * 2. the run is "killed": zfs-fuse gets SIGKILL, the temp directory with the vdev is removed;
 * 3. control: zfs-fuse started by hand imports the pool from its cache, not ONLINE;
 *    it is SIGKILLed again (the cache still holds the pool);
 * 4. the helper acquires again: it must start a daemon that answers, without the stale pool.
 *
 * Prints one JSON line with what it saw and how long each command took.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { acquireZfsFuse } from "./zfsFuse";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function timed(args: string[]) {
  const t0 = Date.now();
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout: 30_000 });
  return { code: r.status, out: (r.stdout ?? "") + (r.stderr ?? ""), seconds: (Date.now() - t0) / 1000, timedOut: r.error !== undefined };
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
  throw new Error(`zfs-fuse ${pid} did not die`);
}

/** The run that gets killed: a lease, a pool on a file vdev, then SIGKILL to zfs-fuse and itself. */
async function killedRun(pool: string, vdev: string): Promise<void> {
  const lease = await acquireZfsFuse();
  if (!lease.daemonPid) throw new Error("expected the helper to start its own zfs-fuse in the private namespace");
  const created = timed(["zpool", "create", "-m", "none", pool, vdev]);
  if (created.code !== 0) throw new Error(`zpool create: ${created.out}`);
  process.kill(lease.daemonPid, "SIGKILL");
  await waitGone(lease.daemonPid);
  process.kill(process.pid, "SIGKILL"); // no release, no clean-up
}

async function main(): Promise<void> {
  if (process.argv[2] === "killed-run") return killedRun(process.argv[3], process.argv[4]);
  const pool = `ks${process.pid}k`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ks-zfs-killed-"));
  const vdev = path.join(dir, "v0");
  fs.writeFileSync(vdev, "");
  fs.truncateSync(vdev, 128 * 1024 * 1024);

  const run = spawnSync(process.execPath, [...process.execArgv, __filename, "killed-run", pool, vdev], { encoding: "utf8", timeout: 60_000 });
  if (run.signal !== "SIGKILL") throw new Error(`the killed run did not get as far as its kill (${run.status}/${run.signal}): ${run.stderr}`);
  const cacheHadPool = fs.readFileSync("/var/lib/zfs/zpool.cache", "latin1").includes(pool);
  // ... and its temp directory goes (as a tmp cleaner or the next boot would do).
  fs.rmSync(dir, { recursive: true, force: true });

  // Control: a plain start imports the stale pool from the cache.
  const raw = spawn("zfs-fuse", ["--no-daemon", "--no-kstat-mount"], { stdio: "ignore" });
  process.once("exit", () => raw.exitCode === null && raw.signalCode === null && raw.kill("SIGKILL"));
  let control = { code: null as number | null, out: "", seconds: 0, timedOut: false };
  for (let i = 0; i < 150; i++) {
    control = timed(["zpool", "list", "-H", "-o", "name,health"]);
    if (control.code === 0) break;
    await sleep(200);
  }
  process.kill(raw.pid!, "SIGKILL");
  await waitGone(raw.pid!);

  // The next run: the helper starts the daemon and must leave no stale pool behind.
  const t0 = Date.now();
  const second = await acquireZfsFuse();
  const acquireSeconds = (Date.now() - t0) / 1000;
  const list = timed(["zpool", "list", "-H", "-o", "name,health"]);
  const zfsList = timed(["zfs", "list", "-H", "-o", "name"]);
  // The name is free again: a new pool of the same name on a new vdev works and is ONLINE.
  const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), "ks-zfs-killed-"));
  const vdev2 = path.join(dir2, "v0");
  fs.writeFileSync(vdev2, "");
  fs.truncateSync(vdev2, 128 * 1024 * 1024);
  const recreate = timed(["zpool", "create", "-m", "none", pool, vdev2]);
  const health = timed(["zpool", "list", "-H", "-o", "health", pool]);
  const destroy = timed(["zpool", "destroy", "-f", pool]);
  const secondPid = second.daemonPid;
  await second.release();
  let stopped = false;
  if (secondPid) {
    try {
      process.kill(secondPid, 0);
    } catch {
      stopped = true;
    }
  }
  fs.rmSync(dir2, { recursive: true, force: true });

  process.stdout.write(
    JSON.stringify({ pool, cacheHadPool, control, acquireSeconds, list, zfsList, recreate, health: health.out.trim(), destroy: destroy.code, stopped }) + "\n",
  );
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
