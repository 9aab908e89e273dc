/**
 * Kind: one mount inside a guest, as systemd `.mount` (+ `.automount`) units or a managed fstab
 * block, plus the root-owned 0600 credentials file SMB needs. Units are checked with
 * `systemd-analyze verify` (fstab blocks through `systemd-fstab-generator` first) before they
 * are installed; activation (daemon-reload, enable, start) is configurable.
 */
import * as path from "path";
import { Host } from "../../core/connection";
import { redact } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { probeFile } from "../../core/configFile";
import { relevant, verifyUnits } from "../../core/systemdUnits";
import { FSTAB_GENERATORS } from "./guestFacts";
import { guestMountPreflight } from "./guestPreflight";
import { extractFstabBlock, MountPlan, planGuestMount, spliceFstab } from "./mountPlan";
import { GuestMountSpec, guestMountSecretProblems, validateGuestMount } from "./guestMountArgs";

/** What was observed (never a secret: the credentials file is reported as current or not). */
export type GuestMountState = {
  mountUnit?: string | null;
  automountUnit?: string | null;
  fstabEntry?: string | null;
  credentials?: { path: string; mode: string; owner: string; content: "current" | "differs" } | null;
  enabled?: string;
  active?: string;
};

/** Create a missing directory as root-only 0700 (constant script; the path is $1). */
const MAKE_PRIVATE_DIR = 'if [ ! -d "$1" ]; then mkdir -p -- "$(dirname -- "$1")" && mkdir -m 0700 -- "$1" && chown root:root -- "$1"; fi';

/** What `render` returns: the state the guest should be in. */
function desiredState(plan: MountPlan): GuestMountState {
  const s: GuestMountState = {};
  if (plan.style === "systemd") {
    s.mountUnit = plan.units[plan.mountUnit].content;
    if (plan.automountUnit) s.automountUnit = plan.units[plan.automountUnit].content;
    if (plan.activation !== "none") s.enabled = "enabled";
  } else {
    s.fstabEntry = plan.fstab!.block;
  }
  if (plan.credentials) s.credentials = { path: plan.credentials.path, mode: "0600", owner: "root", content: "current" };
  if (plan.activation === "start") s.active = "active";
  return s;
}

async function systemctlState(host: Host, plan: MountPlan, verb: "is-enabled" | "is-active"): Promise<string> {
  const r = await host.run([...plan.systemctl, verb, plan.primaryUnit], { check: false });
  return r.stdout.trim().split("\n").pop() || `unknown (exit ${r.code})`;
}

async function probe(host: Host, spec: GuestMountSpec, secrets: Record<string, string>): Promise<GuestMountState | undefined> {
  const plan = planGuestMount(spec, secrets);
  const s: GuestMountState = {};
  let present = false;
  if (plan.style === "systemd") {
    s.mountUnit = (await host.readFile(plan.units[plan.mountUnit].path)) ?? null;
    present ||= s.mountUnit !== null;
    if (plan.automountUnit) {
      s.automountUnit = (await host.readFile(plan.units[plan.automountUnit].path)) ?? null;
      present ||= s.automountUnit !== null;
    }
  } else {
    const text = (await host.readFile(plan.fstab!.path)) ?? "";
    s.fstabEntry = extractFstabBlock(text, plan.fstab!) ?? null;
    present ||= s.fstabEntry !== null;
  }
  if (plan.credentials) {
    const f = await probeFile(host, plan.credentials.hostPath);
    s.credentials = f
      ? { path: plan.credentials.path, mode: f.mode, owner: f.owner ?? "?", content: f.content === plan.credentials.content ? "current" : "differs" }
      : null;
    present ||= f !== undefined;
  }
  if (!present) return undefined;
  if (plan.activation !== "none" && plan.style === "systemd") s.enabled = await systemctlState(host, plan, "is-enabled");
  if (plan.activation === "start") s.active = await systemctlState(host, plan, "is-active");
  return s;
}

/** Check a candidate fstab the way systemd will read it: run the fstab generator, then verify our unit. */
export async function verifyFstab(host: Host, fstabText: string, plan: MountPlan): Promise<void> {
  const dir = (await host.run(["mktemp", "-d", "/tmp/kvmshare-fstab.XXXXXX"])).stdout.trim();
  try {
    const cand = path.posix.join(dir, "fstab");
    await host.writeFileAtomic(cand, fstabText, { mode: "0644" });
    const out = path.posix.join(dir, "out");
    let generator: string | undefined;
    for (const g of FSTAB_GENERATORS) if ((await host.run(["test", "-x", g], { check: false })).code === 0) generator = g;
    if (!generator) throw new Error(`systemd-fstab-generator not found on ${host.label} (looked in ${FSTAB_GENERATORS.join(", ")})`);
    await host.run(["mkdir", "-p", out]);
    const gen = await host.run([generator, out, out, out], { env: { SYSTEMD_FSTAB: cand, SYSTEMD_PROC_CMDLINE: "" }, check: false });
    const units: string[] = [plan.mountUnit, ...(plan.automountUnit ? [plan.automountUnit] : [])];
    const missing = [];
    for (const u of units) if ((await host.run(["test", "-f", path.posix.join(out, u)], { check: false })).code !== 0) missing.push(u);
    if (gen.code !== 0 || missing.length) {
      throw new Error(`systemd-fstab-generator did not produce ${missing.join(", ") || "its units"} from the candidate fstab (exit ${gen.code}):\n  ${gen.stderr.trim()}`);
    }
    const r = await host.run(["systemd-analyze", "verify", "--man=no", "--generators=no", ...units.map((u) => path.posix.join(out, u))], {
      check: false,
    });
    const complaints = relevant(r.stderr + r.stdout, [out, ...units]).filter((l) => !l.includes("SourcePath"));
    if (r.code !== 0 || complaints.length) {
      throw new Error(`systemd-analyze verify refused the fstab entry for ${plan.where} (exit ${r.code}); fstab was not changed:\n  ${complaints.join("\n  ")}`);
    }
  } finally {
    await host.run(["rm", "-rf", "--", dir], { check: false });
  }
}

async function writeCredentials(host: Host, plan: MountPlan, live: GuestMountState | undefined, log: (m: string) => void): Promise<void> {
  const c = plan.credentials!;
  const l = live?.credentials;
  if (l && l.content === "current" && l.mode === "0600" && l.owner === "root") return;
  // A directory kvmshare creates for it is root-only too; an existing one (e.g. /etc) is left as it is.
  // The content goes over stdin, never on a command line.
  await host.run(["sh", "-c", MAKE_PRIVATE_DIR, "sh", path.posix.dirname(c.hostPath)]);
  await host.writeFileAtomic(c.hostPath, c.content, { mode: "0600", owner: "root", group: "root" });
  log(`wrote credentials file ${c.path} (0600 root) on ${host.label}`);
}

/** Remove what a plan installed (units or fstab block, credentials), stopping/disabling first. */
async function uninstall(host: Host, plan: MountPlan, log: (m: string) => void): Promise<void> {
  const live = plan.activation === "start";
  if (live) {
    await host.run([...plan.systemctl, "stop", plan.primaryUnit, plan.mountUnit], { check: false });
  }
  if (plan.style === "systemd") {
    if (plan.activation !== "none") await host.run([...plan.systemctl, "disable", plan.primaryUnit], { check: false });
    for (const [name, u] of Object.entries(plan.units)) if (await host.removeFile(u.path)) log(`removed ${name} on ${host.label}`);
  } else {
    const current = await probeFile(host, plan.fstab!.path);
    if (current !== undefined && extractFstabBlock(current.content, plan.fstab!) !== undefined) {
      await host.writeFileAtomic(plan.fstab!.path, spliceFstab(current.content, plan.fstab!, undefined), {
        mode: current.mode,
        owner: current.owner,
        group: current.group,
      });
      log(`removed the ${plan.where} entry from ${plan.fstab!.path} on ${host.label}`);
    }
  }
  if (plan.credentials && (await host.removeFile(plan.credentials.hostPath))) log(`removed ${plan.credentials.path}`);
  if (live) await host.run([...plan.systemctl, "daemon-reload"], { check: false });
}

export const kind: HostKind<GuestMountSpec, GuestMountState> = {
  name: "GuestMount",
  version: 1,
  validate: (spec, secrets) => [...validateGuestMount(spec), ...guestMountSecretProblems(spec, secrets)],
  preflight: (host, spec) => guestMountPreflight(host, spec),
  render: (spec, secrets) => desiredState(planGuestMount(spec, secrets)),
  probe,
  id: (spec) => `GuestMount:${spec.where}`,
  outputs: (spec) => {
    const plan = planGuestMount(spec, {});
    return { unitName: plan.primaryUnit, mountUnit: plan.mountUnit, automountUnit: plan.automountUnit ?? null, what: plan.what };
  },
  async apply(host, { spec, live, secrets, previous, log }) {
    const plan = planGuestMount(spec, secrets);
    if (plan.credentials && !secrets.password) throw new Error("GuestMount: secrets.password is required for an SMB mount");
    // A previous apply under another mount point/style/root: take that one down first.
    if (previous) {
      const old = planGuestMount(previous.spec, secrets);
      const oldFiles = [...Object.values(old.units).map((u) => u.path), old.fstab?.path, old.credentials?.hostPath];
      const newFiles = new Set([...Object.values(plan.units).map((u) => u.path), plan.fstab?.path, plan.credentials?.hostPath]);
      const moved = old.where !== plan.where || old.style !== plan.style || old.root !== plan.root;
      // Switching automount on or off changes which unit is enabled: disable the old one first.
      if (moved || old.primaryUnit !== plan.primaryUnit || oldFiles.some((f) => f && !newFiles.has(f))) {
        await uninstall(host, old, log);
        live = undefined;
      }
    }
    if (plan.credentials) await writeCredentials(host, plan, live, log);
    let changed = false;
    if (plan.style === "systemd") {
      const want: Record<string, string> = Object.fromEntries(Object.entries(plan.units).map(([n, u]) => [n, u.content]));
      const stale = Object.entries(plan.units).filter(([n]) => (n === plan.mountUnit ? live?.mountUnit : live?.automountUnit) !== want[n]);
      if (stale.length) {
        if (plan.verify) await verifyUnits(host, want);
        for (const [name, u] of stale) {
          await host.run(["mkdir", "-p", path.posix.dirname(u.path)]);
          await host.writeFileAtomic(u.path, u.content, { mode: "0644" });
          log(`installed ${name} on ${host.label}`);
        }
        changed = true;
      }
    } else {
      const f = plan.fstab!;
      const current = await probeFile(host, f.path);
      const text = current?.content ?? "";
      if (extractFstabBlock(text, f) !== f.block) {
        const next = spliceFstab(text, f, f.block);
        if (plan.verify) await verifyFstab(host, next, plan);
        // Keep the file's own mode and owner (0644 root for a new one).
        await host.writeFileAtomic(f.path, next, { mode: current?.mode ?? "0644", owner: current?.owner, group: current?.group });
        log(`updated the ${plan.where} entry in ${f.path} on ${host.label}`);
        changed = true;
      }
    }
    if (plan.activation === "none") return;
    if (plan.activation === "start" && changed) await host.run([...plan.systemctl, "daemon-reload"]);
    if (plan.style === "systemd") await host.run([...plan.systemctl, "enable", plan.primaryUnit]);
    if (plan.activation === "start") {
      try {
        if (changed && live?.active === "active") {
          if (plan.automountUnit) await host.run([...plan.systemctl, "stop", plan.mountUnit], { check: false });
          await host.run([...plan.systemctl, "restart", plan.primaryUnit]);
        } else {
          await host.run([...plan.systemctl, "start", plan.primaryUnit]);
        }
      } catch (e) {
        // systemctl only says "Job failed"; the reason (e.g. mount error(13): Permission denied)
        // is in the unit's journal. A mount that never came up on create is rolled back, since
        // the resource never reaches the state and destroy could not remove its unit and
        // credentials file.
        const why = await unitFailureReason(host, plan.systemctl, plan.mountUnit, Object.values(secrets));
        if (!previous) await uninstall(host, plan, log).catch(() => undefined);
        throw new Error(
          `GuestMount: ${plan.primaryUnit} failed to start on ${host.label}${why ? `:\n${why}` : ""}` +
            (previous ? "" : "\n(the unit and credentials file it installed were removed again)") +
            `\n${(e as Error).message.split("\n")[0]}`,
        );
      }
      log(`${plan.primaryUnit} started on ${host.label}`);
    }
  },
  async remove(host, spec, _observed, log) {
    await uninstall(host, planGuestMount(spec, {}), log);
  },
};

/** The last lines a failed unit logged (the mount helper's own error), secrets blanked out. */
async function unitFailureReason(host: Host, systemctl: string[], unit: string, secrets: string[]): Promise<string> {
  const root = systemctl.find((a) => a.startsWith("--root="));
  if (root) return "";
  const r = await host.run(["journalctl", "-u", unit, "-n", "8", "--no-pager", "-o", "cat"], { check: false, timeoutMs: 15_000 });
  return redact(r.stdout.trim().split("\n").filter((l) => l && !/^(Mounting|Failed to mount|Starting) /.test(l)).slice(-5).join("\n"), secrets);
}
