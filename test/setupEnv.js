// Provider progress logs go to stderr; keep test output readable unless KVMSHARE_VERBOSE=1.
if (process.env.KVMSHARE_VERBOSE !== "1") process.env.KVMSHARE_QUIET = "1";

// A time limit on every synchronous zfs/zpool call a test makes (unless it sets its own): zfs-fuse
// can wedge (seen once at load ~4: every FUSE request stuck), and a synchronous call then blocks
// Jest's event loop, so neither the test's timeout nor the engine's own kill can fire and the
// whole lane hangs. With the limit the call is killed and the test fails, naming the command.
const childProcess = require("child_process");
const ZFS_SYNC_LIMIT_MS = Number(process.env.KVMSHARE_ZFS_SYNC_LIMIT_MS) || 120_000;
if (!childProcess.execFileSync.__kvmshareZfsLimit) {
  const original = childProcess.execFileSync;
  const limited = function execFileSync(file, args, options) {
    if ((file === "zfs" || file === "zpool") && Array.isArray(args)) {
      const o = options && typeof options === "object" ? options : {};
      if (o.timeout === undefined) return original.call(this, file, args, { ...o, timeout: ZFS_SYNC_LIMIT_MS, killSignal: o.killSignal ?? "SIGKILL" });
    }
    return original.apply(this, arguments);
  };
  limited.__kvmshareZfsLimit = true;
  childProcess.execFileSync = limited;
}
