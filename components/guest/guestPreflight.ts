/**
 * Checks against the guest that run at preview (the provider's `check`), so a guest that cannot
 * do what was declared fails before anything changes, with what to install or change.
 * Per-distro facts (helper binaries, Debian package names) sit in guestFacts.ts.
 */
import { Host } from "../../core/connection";
import { Problem } from "../../core/errors";
import { planGuestMount } from "./mountPlan";
import { GuestMountSpec } from "./guestMountArgs";
import { FSTAB_GENERATORS, GUEST_NEEDS } from "./guestFacts";
import { rpcTlsProblems } from "../../core/rpcTls";

// Constant scripts; the name is $1.
const HAS_COMMAND = 'command -v "$1" >/dev/null 2>&1 || [ -x "/sbin/$1" ] || [ -x "/usr/sbin/$1" ]';
const HAS_FILESYSTEM = 'grep -qw -- "$1" /proc/filesystems || modinfo -- "$1" >/dev/null 2>&1';
const HAS_FILE = '[ -x "$1" ]';

async function ok(host: Host, script: string, arg: string): Promise<boolean> {
  return (await host.run(["sh", "-c", script, "sh", arg], { check: false })).code === 0;
}

/** Problems that stop this mount on this guest (empty: go ahead). */
export async function guestMountPreflight(host: Host, spec: GuestMountSpec): Promise<Problem[]> {
  const plan = planGuestMount(spec, {});
  const problems: Problem[] = [];
  // The mount runs on this host's kernel (not so for an image tree under another root).
  if (spec.nfs?.xprtsec !== undefined && plan.root === "/") {
    problems.push(...(await rpcTlsProblems(host, { field: "nfs.xprtsec", value: spec.nfs.xprtsec, nfsUtils: false })));
  }
  if (plan.verify && !(await ok(host, HAS_COMMAND, "systemd-analyze"))) {
    problems.push({ field: "verify", value: true, message: `${host.label} has no systemd-analyze to check the units with: install systemd, or set verify: false` });
  }
  if (plan.style === "fstab" && plan.verify) {
    let found = false;
    for (const g of FSTAB_GENERATORS) found ||= await ok(host, HAS_FILE, g);
    if (!found) problems.push({ field: "style", value: "fstab", message: `${host.label} has no systemd-fstab-generator to check the fstab entry with: set verify: false or use style 'systemd'` });
  }
  if (plan.activation !== "none" && !(await ok(host, HAS_COMMAND, "systemctl"))) {
    problems.push({ field: "activation", value: plan.activation, message: `${host.label} has no systemctl: use activation 'none'` });
  }
  if (plan.activation === "start" && plan.root === "/") {
    if (!(await ok(host, HAS_FILE, "/run/systemd/system"))) {
      problems.push({
        field: "activation",
        value: "start",
        message: `${host.label} does not run systemd (no /run/systemd/system), so nothing can start the mount: use activation 'enable' or 'none'`,
      });
    }
    for (const need of GUEST_NEEDS[plan.type]) {
      const present = await ok(host, need.kind === "command" ? HAS_COMMAND : HAS_FILESYSTEM, need.name);
      if (!present) {
        problems.push({
          field: plan.type === "9p" ? "ninep" : plan.type,
          value: need.name,
          message: `${host.label} cannot mount ${plan.type}: ${need.kind === "command" ? `no ${need.name} helper` : `no ${need.name} filesystem`}; install ${need.install}`,
        });
      }
    }
  }
  return problems;
}
