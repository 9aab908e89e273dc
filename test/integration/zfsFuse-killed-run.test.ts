/**
 * A killed run must not wedge the next one. zfs-fuse re-imports the pools of its cache at start;
 * a test pool whose file vdev went with a killed run's temp directory came back UNAVAIL and a
 * later `zfs receive` hung. The shared helper (./zfsFuse.ts) exports such stale test pools when
 * it acquires the daemon. This drives the whole scenario (test/fixtures/zfsFuseKilledRun.ts) in a private
 * mount namespace, where zfs-fuse's socket, lock and cache directories are private tmpfs, so the
 * daemon it starts and SIGKILLs is its own and never one a parallel test uses.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { requirePrograms } from "../requirePrograms";
import { ZFS_FUSE_PROGRAMS, ZFS_FUSE_REQUIREMENTS } from "../fixtures/zfsFuse";

const describe = requirePrograms([...ZFS_FUSE_PROGRAMS, "unshare"], ZFS_FUSE_REQUIREMENTS);

// Mounts a private tmpfs on each of zfs-fuse's directories, then runs the scenario.
const PRIVATE_ZFS_DIRS =
  'for d in /var/lib/zfs /run/zfs /run/lock; do mkdir -p "$d" && mount -t tmpfs ks-zfs-private "$d" || exit 1; done; mkdir -p /run/lock/zfs && exec "$@"';

describe("zfs-fuse after a killed run", () => {
  let state: string;

  beforeAll(() => {
    state = fs.mkdtempSync(path.join(os.tmpdir(), "ks-zfs-killed-state-"));
  });
  afterAll(() => {
    // A scenario that failed half-way may leave the daemon the helper started in the private
    // namespace: its PID is in this test's own state directory.
    const pidFile = path.join(state, "daemon.pid");
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8")) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(state, { recursive: true, force: true });
  });

  it("the helper's next start exports the stale pool, and zpool/zfs answer within seconds", () => {
    const root = path.join(__dirname, "../..");
    const r = spawnSync(
      "unshare",
      ["-m", "--propagation", "private", "sh", "-c", PRIVATE_ZFS_DIRS, "sh", process.execPath, "-r", "ts-node/register/transpile-only", path.join(__dirname, "../fixtures/zfsFuseKilledRun.ts")],
      { cwd: root, encoding: "utf8", timeout: 150_000, env: { ...process.env, KVMSHARE_ZFS_FUSE_STATE: state, TS_NODE_TRANSPILE_ONLY: "1" } },
    );
    if (r.status !== 0) throw new Error(`scenario failed (exit ${r.status}, ${r.error ?? ""}):\n${r.stderr}\n${r.stdout}`);
    const seen = JSON.parse(r.stdout.trim().split("\n").pop()!);
    console.log(
      `killed run: control start listed '${seen.control.out.trim()}'; helper acquire took ${seen.acquireSeconds.toFixed(1)} s; ` +
        `then zpool list ${seen.list.seconds.toFixed(2)} s, zfs list ${seen.zfsList.seconds.toFixed(2)} s`,
    );
    // The scenario is real: the pool was in the cache, and a plain start brought it back unusable.
    expect(seen.cacheHadPool).toBe(true);
    expect(seen.control.code).toBe(0);
    expect(seen.control.out).toMatch(new RegExp(`^${seen.pool}\\t(UNAVAIL|FAULTED)$`, "m"));
    // Through the helper: it says what it exported, the daemon answers at once, the pool is gone.
    expect(r.stderr).toContain(`exported stale test pool ${seen.pool}`);
    expect(seen.acquireSeconds).toBeLessThan(30);
    for (const c of [seen.list, seen.zfsList]) {
      expect(c.timedOut).toBe(false);
      expect(c.code).toBe(0);
      expect(c.seconds).toBeLessThan(5);
    }
    expect(seen.list.out).not.toContain(seen.pool);
    // The name is usable again, and the helper stopped the daemon it started.
    expect(seen.recreate.code).toBe(0);
    expect(seen.health).toBe("ONLINE");
    expect(seen.destroy).toBe(0);
    expect(seen.stopped).toBe(true);
  }, 180_000);
});
