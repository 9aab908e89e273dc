/**
 * The systemd unit that re-applies runtime-only settings (MTU, tc shaping, ethtool, sysctls of a
 * network namespace) at boot. Pure: builds the view-model and renders
 * `templates/network-tuning.service.hbs`.
 */
import { render } from "../../core/render";
import { ethtoolCommands, EthtoolSpec } from "./ethtoolKind";
import { LinkMtuSpec, mtuArgv } from "./linkMtuKind";
import { inNetns } from "./netHost";
import { profilePath, SysctlProfileSpec } from "./sysctlProfileKind";
import { tcCommands, TcShapingSpec } from "./tcShapingKind";

export interface BootUnitInput {
  name: string;
  device?: string;
  netns?: string;
  sysctl?: SysctlProfileSpec;
  mtu?: LinkMtuSpec;
  shaping?: TcShapingSpec;
  ethtool?: EthtoolSpec;
}

/** One argument for a systemd `ExecStart=` line (systemd.syntax(7) quoting; `%` and `$` doubled). */
export function systemdQuote(arg: string): string {
  const doubled = arg.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) && arg !== "") return doubled;
  return `"${doubled.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** An `ExecStart=` value; `-` in front makes a failure not fail the unit. */
export function execLine(argv: readonly string[], mayFail = false): string {
  return (mayFail ? "-" : "") + argv.map(systemdQuote).join(" ");
}

/** `systemd-escape` of a network interface name as used in its `.device` unit. */
export function deviceUnit(device: string): string {
  let out = "";
  Buffer.from(device, "utf8").forEach((b, i) => {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9:_]/.test(ch) || (ch === "." && i > 0) ? ch : "\\x" + b.toString(16).padStart(2, "0");
  });
  return `sys-subsystem-net-devices-${out}.device`;
}

export function bootUnitName(name: string): string {
  return `kvmshare-net-${name}.service`;
}

/** The ExecStart commands, in the order the component applies them. */
export function bootCommands(u: BootUnitInput): string[] {
  const lines: string[] = [];
  // Host-namespace sysctls are loaded by systemd-sysctl from /etc/sysctl.d; a namespace's are not.
  if (u.sysctl && u.netns) lines.push(execLine(inNetns(u.netns, ["sysctl", "-q", "-p", profilePath(u.sysctl)])));
  if (u.mtu) lines.push(execLine(inNetns(u.netns, mtuArgv(u.mtu.device, u.mtu.mtu))));
  if (u.ethtool) {
    for (const c of ethtoolCommands(u.ethtool)) lines.push(execLine(inNetns(u.netns, c.argv), !u.ethtool.failOnUnsupported));
  }
  if (u.shaping) {
    for (const c of tcCommands(u.shaping.device, u.shaping.shaping)) lines.push(execLine(inNetns(u.netns, c.argv), c.mayFail));
  }
  return lines;
}

/** The unit file's content. */
export function renderBootUnit(u: BootUnitInput): string {
  const runtime = [u.sysctl && u.netns ? `sysctls of netns ${u.netns}` : "", u.mtu ? "MTU" : "", u.ethtool ? "ethtool" : "", u.shaping ? "tc shaping" : ""].filter(Boolean);
  const unitLines: string[] = [];
  let wantedBy = "multi-user.target";
  if (u.netns) {
    // The namespace is made by something else (a unit, libvirt, a script): run only once it exists.
    unitLines.push("After=network.target", `ConditionPathExists=/run/netns/${u.netns}`);
  } else if (u.device) {
    // Started when the interface appears (at boot or when it is re-created), stopped with it.
    const dev = deviceUnit(u.device);
    unitLines.push(`BindsTo=${dev}`, `After=${dev}`);
    wantedBy = dev;
  }
  return render("network-tuning.service.hbs", {
    name: u.name,
    description: `kvmshare network tuning ${u.name}${u.device ? ` (${u.device}${u.netns ? ` in netns ${u.netns}` : ""})` : ""}`,
    runtimeSettings: runtime.join(", ") || "none",
    unitLines,
    execStart: bootCommands(u),
    wantedBy,
  });
}

/** Where `systemctl enable` puts the unit's link (removed again with the unit). */
export function wantsLink(unitDir: string, u: BootUnitInput): string {
  const target = u.netns || !u.device ? "multi-user.target" : deviceUnit(u.device);
  return `${unitDir.replace(/\/+$/, "")}/${target}.wants/${bootUnitName(u.name)}`;
}
