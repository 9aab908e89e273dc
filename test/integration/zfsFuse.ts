/**
 * Shared test helper: a zfs-fuse daemon for integration tests (storage, exports, perf, VM lane:
 * any test file that needs real ZFS on this machine may use it).
 *
 *   let zfs: ZfsFuseLease;
 *   beforeAll(async () => { zfs = await acquireZfsFuse(); });
 *   afterAll(async () => { await zfs.release(); });
 *
 * Only one zfs-fuse can run per machine (it owns /var/run/zfs/zfs_socket), while jest runs test
 * files in parallel workers. So leases are counted across processes in a small state directory
 * (/run/kvmshare-test-zfs-fuse: `users/<pid>-<n>` per lease, `daemon.pid` when a lease started
 * the daemon), under a mkdir lock. The first lease starts the daemon if none answers; the last
 * release stops it by PID, and only if a lease started it: a daemon that was already running
 * (a developer's, CI's) is never stopped. Leases of dead processes are swept.
 *
 * Each test file must still use its own pool names (e.g. `ks${process.pid}a`) and destroy its
 * pools in afterAll. Never kill zfs-fuse by name.
 *
 * A killed run must not wedge the next one: zfs-fuse re-imports every pool of its cache
 * (/var/lib/zfs/zpool.cache) at start, including test pools whose file vdevs a killed run's
 * clean-up never destroyed but whose temp directory is gone; they come back UNAVAIL/FAULTED and
 * a later `zfs receive` into the daemon hung. So every acquire exports (which also drops them
 * from the cache) the pools that are test pools (name starting with `ks`) and unusable and whose
 * every vdev is a file that no longer exists: `staleTestPools()`. A user's pool is never touched.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Requirements, whatIsMissing } from "../requirePrograms";

const STATE = process.env.KVMSHARE_ZFS_FUSE_STATE || "/run/kvmshare-test-zfs-fuse";
const LOCK = path.join(STATE, "lock");
const USERS = path.join(STATE, "users");
const DAEMON_PID = path.join(STATE, "daemon.pid");

export interface ZfsFuseLease {
  /** PID of the daemon when this machine's helpers started it (undefined: someone else's daemon). */
  daemonPid: number | undefined;
  /** Give the lease back; the last one stops a daemon the helper started. */
  release(): Promise<void>;
}

/** What a zfs-fuse test needs, for `requirePrograms(ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS)`. */
export const ZFS_FUSE_PROGRAMS = ["zfs-fuse", "zpool", "zfs"];
export const ZFS_FUSE_REQUIREMENTS: Requirements = { root: true, files: [{ path: "/dev/fuse", package: "fuse3 (or the kernel's fuse module)" }] };

/** Why zfs-fuse cannot be used here, or undefined (the test files use `requirePrograms`). */
export function zfsFuseUnavailable(): string | undefined {
  const missing = whatIsMissing(ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS);
  return missing.length ? `zfs-fuse cannot run here: missing ${missing.join(", ")}` : undefined;
}

/** zpool/zfs with a time limit: a wedged daemon fails the test instead of hanging it. */
function zcmd(args: string[], timeoutMs = 20_000) {
  return spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout: timeoutMs });
}

/**
 * Test pools (`ks*`) that zfs-fuse imported from its cache although their file vdevs are gone
 * (a killed run): not ONLINE, and every vdev `zpool status` lists is a missing file.
 */
export function staleTestPools(): string[] {
  const list = zcmd(["zpool", "list", "-H", "-o", "name,health"]);
  if (list.status !== 0) return [];
  const stale: string[] = [];
  for (const line of list.stdout.split("\n").filter(Boolean)) {
    const [name, health] = line.split("\t");
    if (!/^ks/.test(name) || health === "ONLINE") continue;
    const status = zcmd(["zpool", "status", name]);
    const vdevs = status.stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((w) => w?.startsWith("/"));
    if (vdevs.length && vdevs.every((v) => !v.startsWith("/dev/") && !fs.existsSync(v))) stale.push(name);
  }
  return stale;
}

/** Export the stale test pools (see above); returns their names. Throws if one stays. */
export function exportStaleTestPools(): string[] {
  const stale = staleTestPools();
  for (const name of stale) {
    const r = zcmd(["zpool", "export", "-f", name]);
    if (r.status !== 0) throw new Error(`zfsFuse: could not export stale test pool ${name} (its file vdevs are gone): ${r.stderr.trim()}`);
    process.stderr.write(`zfsFuse: exported stale test pool ${name} (left by a killed run; its file vdevs are gone)\n`);
  }
  return stale;
}

function answers(): boolean {
  // `zpool list` talks to the daemon over its socket; exit 0 = daemon up.
  return spawnSync("zpool", ["list", "-H", "-o", "name"], { timeout: 20_000 }).status === 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(STATE, { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, "owner"), String(process.pid));
      break;
    } catch {
      // A lock left by a dead process is taken over.
      const owner = Number(fs.readFileSync(path.join(LOCK, "owner"), { encoding: "utf8", flag: "a+" }) || 0);
      if (owner && !alive(owner)) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`zfsFuse: could not take ${LOCK} within 60 s`);
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

function sweepUsers(): string[] {
  fs.mkdirSync(USERS, { recursive: true });
  const live: string[] = [];
  for (const u of fs.readdirSync(USERS)) {
    const pid = Number(u.split("-")[0]);
    if (alive(pid)) live.push(u);
    else fs.rmSync(path.join(USERS, u), { force: true });
  }
  return live;
}

let counter = 0;

/** Make sure a zfs-fuse daemon answers, and hold a lease on it until `release()`. */
export async function acquireZfsFuse(): Promise<ZfsFuseLease> {
  const why = zfsFuseUnavailable();
  if (why) throw new Error(`zfsFuse: ${why}`);
  const me = `${process.pid}-${++counter}`;
  const daemonPid = await withLock(async () => {
    sweepUsers();
    let pid = fs.existsSync(DAEMON_PID) ? Number(fs.readFileSync(DAEMON_PID, "utf8")) : undefined;
    if (pid && !alive(pid)) {
      fs.rmSync(DAEMON_PID, { force: true });
      pid = undefined;
    }
    if (!answers()) {
      const log = fs.openSync(path.join(STATE, "zfs-fuse.log"), "a");
      const child = spawn("zfs-fuse", ["--no-daemon", "--no-kstat-mount"], { detached: true, stdio: ["ignore", log, log] });
      child.unref();
      fs.closeSync(log);
      if (!child.pid) throw new Error("zfsFuse: could not start zfs-fuse");
      pid = child.pid;
      fs.writeFileSync(DAEMON_PID, String(pid));
      const deadline = Date.now() + 30_000;
      while (!answers()) {
        if (!alive(pid)) throw new Error(`zfsFuse: zfs-fuse exited at start; see ${path.join(STATE, "zfs-fuse.log")}`);
        if (Date.now() > deadline) throw new Error("zfsFuse: zfs-fuse did not answer within 30 s");
        await sleep(200);
      }
    }
    exportStaleTestPools();
    fs.writeFileSync(path.join(USERS, me), "");
    return pid;
  });
  let released = false;
  return {
    daemonPid,
    async release() {
      if (released) return;
      released = true;
      await withLock(async () => {
        fs.rmSync(path.join(USERS, me), { force: true });
        if (sweepUsers().length) return;
        if (!fs.existsSync(DAEMON_PID)) return; // not ours: leave it running
        const pid = Number(fs.readFileSync(DAEMON_PID, "utf8"));
        if (pid && alive(pid)) {
          process.kill(pid, "SIGTERM");
          for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
          if (alive(pid)) process.kill(pid, "SIGKILL");
        }
        // Forgotten only once it is gone: a release cut short leaves it marked as ours.
        fs.rmSync(DAEMON_PID, { force: true });
      });
    },
  };
}

/**
 * Destroy a test pool if it exists (afterAll clean-up), retrying while zfs-fuse says busy. With
 * `fileDir`, a pool left exported on file devices in that directory is imported first.
 */
export async function destroyPoolIfPresent(name: string, fileDir?: string): Promise<void> {
  if (fileDir && spawnSync("zpool", ["list", "-H", "-o", "name", name]).status !== 0) {
    spawnSync("zpool", ["import", "-d", fileDir, name]);
  }
  // zfs-fuse can say "pool is busy" for a while after its datasets were used (longer on a
  // loaded machine): unmount them first (deepest first), then retry for up to a minute.
  const deadline = Date.now() + 60_000;
  for (let i = 1; Date.now() < deadline; i++) {
    if (spawnSync("zpool", ["list", "-H", "-o", "name", name]).status !== 0) return;
    const mounted = spawnSync("zfs", ["list", "-H", "-o", "name", "-r", name], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).reverse();
    for (const ds of mounted) spawnSync("zfs", ["unmount", "-f", ds]);
    const r = spawnSync("zpool", ["destroy", "-f", name], { encoding: "utf8" });
    if (r.status === 0) return;
    await sleep(Math.min(500 * i, 5000));
  }
  throw new Error(`zfsFuse: could not destroy test pool ${name}`);
}
