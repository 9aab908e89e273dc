/**
 * The GuestMount health check as a host kind: writes the script, service and timer (verified
 * with `systemd-analyze verify` in a scratch directory first), enables and starts the timer.
 * The files edited by hand, or the timer stopped, are drift. Destroy stops the timer and
 * removes the files and the textfile.
 */
import { Host } from "../../core/connection";
import { HostKind } from "../../core/hostKind";
import { MountHealthSpec, mountUnitProblems, renderMountHealth, validateMountHealth } from "./mountHealth";

export type MountHealthState = {
  script: string;
  service: string;
  timer: string;
  /** `active` when the timer is running. */
  timerActive: string;
  /** `enabled` when the timer starts at boot. */
  timerEnabled: string;
};

async function systemctl(host: Host, ...args: string[]) {
  return host.run(["systemctl", ...args], { check: false });
}

export const kind: HostKind<MountHealthSpec, MountHealthState> = {
  name: "GuestMountHealth",
  version: 1,
  validate(spec) {
    return [...validateMountHealth(spec, "healthCheck."), ...mountUnitProblems(spec.mountUnit)];
  },

  async preflight(host) {
    const booted = (await host.run(["test", "-d", "/run/systemd/system"], { check: false })).code === 0;
    return booted ? [] : [{ field: "healthCheck", value: true, message: `needs systemd running on ${host.label} (a timer runs the check); drop healthCheck for a guest without systemd` }];
  },

  render(spec) {
    const f = renderMountHealth(spec);
    return { script: f.script, service: f.service, timer: f.timer, timerActive: "active", timerEnabled: "enabled" };
  },

  async probe(host, spec) {
    const f = renderMountHealth(spec);
    const [script, service, timer] = await Promise.all([host.readFile(f.scriptPath), host.readFile(f.servicePath), host.readFile(f.timerPath)]);
    if (script === undefined && service === undefined && timer === undefined) return undefined;
    const active = (await systemctl(host, "is-active", f.timerName)).stdout.trim();
    const enabled = (await systemctl(host, "is-enabled", f.timerName)).stdout.trim();
    return { script: script ?? "", service: service ?? "", timer: timer ?? "", timerActive: active === "active" ? "active" : "inactive", timerEnabled: enabled === "enabled" ? "enabled" : "disabled" };
  },

  compare(desired, observed) {
    return (["script", "service", "timer", "timerActive", "timerEnabled"] as const).filter((k) => desired[k] !== observed[k]);
  },

  async apply(host, ctx) {
    const f = renderMountHealth(ctx.spec);
    const live = ctx.live;
    // Verify the candidates first, in a scratch directory (the script must exist for ExecStart=).
    const scratch = (await host.run(["mktemp", "-d"])).stdout.trim();
    try {
      await host.writeFileAtomic(`${scratch}/${f.serviceName}`, f.service.replace(`ExecStart=${f.scriptPath}`, `ExecStart=${scratch}/check.sh`));
      await host.writeFileAtomic(`${scratch}/${f.timerName}`, f.timer);
      await host.writeFileAtomic(`${scratch}/check.sh`, f.script, { mode: "0755" });
      const v = await host.run(["systemd-analyze", "verify", "--man=no", "--generators=no", `${scratch}/${f.serviceName}`, `${scratch}/${f.timerName}`], { check: false });
      const complaints = (v.stdout + v.stderr).split("\n").filter((l) => l.includes(scratch));
      if (v.code !== 0 || complaints.length) throw new Error(`GuestMount health check: systemd-analyze verify refused the units:\n${(v.stdout + v.stderr).trim()}`);
    } finally {
      await host.run(["rm", "-rf", "--", scratch], { check: false });
    }
    let changed = false;
    await host.run(["mkdir", "-p", "--", ctx.spec.scriptDir]);
    for (const [path, content, mode, now] of [
      [f.scriptPath, f.script, "0755", live?.script],
      [f.servicePath, f.service, "0644", live?.service],
      [f.timerPath, f.timer, "0644", live?.timer],
    ] as const) {
      if (now === content) continue;
      await host.writeFileAtomic(path, content, { mode });
      changed = true;
    }
    if (changed) await host.run(["systemctl", "daemon-reload"]);
    if (live?.timerEnabled !== "enabled" || changed) await host.run(["systemctl", "enable", "--", f.timerName]);
    if (live?.timerActive !== "active" || changed) await host.run(["systemctl", "restart", "--", f.timerName]);
    ctx.log(`${host.label}: health check of ${ctx.spec.where} every ${ctx.spec.periodSec}s (${f.timerName}, metrics in ${f.textfilePath})`);
  },

  async remove(host, spec, _observed, log) {
    const f = renderMountHealth(spec);
    await systemctl(host, "disable", "--now", "--", f.timerName);
    for (const p of [f.timerPath, f.servicePath, f.scriptPath, f.textfilePath]) await host.removeFile(p);
    await systemctl(host, "daemon-reload");
    log(`${host.label}: health check of ${spec.where} removed`);
  },

  id(spec) {
    return `GuestMountHealth:${spec.mountUnit}`;
  },
};
