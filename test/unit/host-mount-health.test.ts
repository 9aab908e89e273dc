/**
 * GuestMount's health check: the script, service and timer rendered for a mount (snapshots),
 * accepted by `systemd-analyze verify`, and the script's shell syntax checked by `sh -n`.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderMountHealth, resolveMountHealth, validateMountHealth } from "../../components/guest/mountHealth";

const spec = { ...resolveMountHealth({ marker: ".kvmshare-alive" }), where: "/mnt/nfs share", mountUnit: "mnt-nfs\\x20share.mount", unitDir: "/etc/systemd/system" };

describe("GuestMount health check", () => {
  const files = renderMountHealth(spec);

  it("renders the script, service and timer", () => {
    expect(files.script).toMatchSnapshot("script");
    expect(files.service).toMatchSnapshot("service");
    expect(files.timer).toMatchSnapshot("timer");
    expect(files.timerName).toBe("kvmshare-mount-health-mnt-nfs_x20share.timer");
    expect(files.script).toContain("WHERE='/mnt/nfs share'");
    expect(files.script).toContain(`LABELS='mountpoint="/mnt/nfs share",unit="mnt-nfs\\\\x20share.mount"'`);
    expect(files.timer).toContain("OnUnitActiveSec=30s");
  });

  it("the script is valid sh", () => {
    const r = spawnSync("sh", ["-n"], { input: files.script });
    expect(r.status).toBe(0);
  });

  it("systemd-analyze verify accepts the service and timer", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-health-"));
    try {
      fs.writeFileSync(path.join(dir, "check.sh"), files.script, { mode: 0o755 });
      fs.writeFileSync(path.join(dir, files.serviceName), files.service.replace(`ExecStart=${files.scriptPath}`, `ExecStart=${dir}/check.sh`));
      fs.writeFileSync(path.join(dir, files.timerName), files.timer);
      const r = spawnSync("systemd-analyze", ["verify", "--man=no", "--generators=no", path.join(dir, files.serviceName), path.join(dir, files.timerName)], { encoding: "utf8" });
      const complaints = (r.stdout + r.stderr).split("\n").filter((l) => l.includes(dir));
      expect(complaints).toEqual([]);
      expect(r.status).toBe(0);
      // The same check fails on a broken timer, so it can fail.
      fs.writeFileSync(path.join(dir, files.timerName), files.timer.replace("OnUnitActiveSec=30s", "OnUnitActiveSec=soon"));
      const bad = spawnSync("systemd-analyze", ["verify", "--man=no", "--generators=no", path.join(dir, files.timerName)], { encoding: "utf8" });
      expect(bad.stdout + bad.stderr).toMatch(/OnUnitActiveSec|soon/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a timeout that does not fit the period, a marker escaping the mount, and odd directories", () => {
    const p = validateMountHealth({ ...resolveMountHealth({ periodSec: 10, timeoutSec: 5 }), marker: "../etc/passwd", textfileDir: "/var/lib/node exporter" });
    expect(p.map((x) => x.field)).toEqual(["healthCheck.timeoutSec", "healthCheck.marker", "healthCheck.textfileDir"]);
  });
});
