/**
 * HostService: a systemd service enabled and running (or stopped), restarted or reloaded when
 * a config it reads changed (`restartOn`). Stopped or disabled by hand is drift; `up` repairs
 * it. Needs systemd as PID 1 (refused at preflight otherwise).
 */
import { Host } from "../../core/connection";
import { hasCommand } from "../../core/hostChecks";
import { HostKind } from "../../core/hostKind";
import { servicesFor } from "./distroPackages";
import { readDistro } from "./hostDistro";
import { HostServiceSpec, unitFileName, validateHostService } from "./hostServiceArgs";

export type { HostServiceSpec } from "./hostServiceArgs";

export type HostServiceState = {
  /** The unit (resolved from the table for `need`). */
  unit?: string;
  /** `active`, `inactive`, `failed` (activating/reloading count as active). */
  active: string;
  /** `enabled` (static, indirect, alias and generated units count as enabled), `disabled`, `masked`, `not-found`. */
  enabled: string;
};

/** is-enabled values that mean "starts at boot" (or cannot be enabled and need not be). */
const ENABLED_LIKE = ["enabled", "enabled-runtime", "static", "indirect", "alias", "generated"];

export function normalizeEnabled(v: string, loadState: string): string {
  if (loadState === "not-found") return "not-found";
  if (ENABLED_LIKE.includes(v)) return "enabled";
  if (v === "masked" || v === "masked-runtime" || loadState === "masked") return "masked";
  return "disabled";
}

export function normalizeActive(v: string): string {
  if (["active", "activating", "reloading", "refreshing"].includes(v)) return "active";
  if (v === "failed") return "failed";
  return "inactive";
}

/** The unit for this spec on this host (the table's first service for `need`). */
async function resolveUnit(host: Host, spec: HostServiceSpec): Promise<string | undefined> {
  if (spec.unit) return unitFileName(spec.unit);
  const d = await readDistro(host);
  const unit = d?.facts && spec.need ? servicesFor(d.facts, [spec.need])[0] : undefined;
  return unit ? unitFileName(unit) : undefined;
}

async function show(host: Host, unit: string): Promise<{ load: string; active: string; enabled: string }> {
  const r = await host.run(["systemctl", "show", "--property=LoadState,ActiveState,UnitFileState", "--", unit], { check: false });
  const kv: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) kv[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return { load: kv.LoadState ?? "not-found", active: kv.ActiveState ?? "inactive", enabled: kv.UnitFileState ?? "" };
}

async function observe(host: Host, unit: string): Promise<HostServiceState> {
  const s = await show(host, unit);
  return { unit, active: normalizeActive(s.active), enabled: normalizeEnabled(s.enabled, s.load) };
}

export const kind: HostKind<HostServiceSpec, HostServiceState> = {
  name: "HostService",
  version: 1,
  validate: validateHostService,

  async preflight(host, spec) {
    const field = spec.unit !== undefined ? "unit" : "need";
    const value = spec.unit ?? spec.need;
    const booted = (await host.run(["test", "-d", "/run/systemd/system"], { check: false })).code === 0;
    if (!booted || !(await hasCommand(host, "systemctl"))) {
      const pid1 = ((await host.readFile("/proc/1/comm")) ?? "unknown").trim();
      return [{ field, value, message: `needs systemd as PID 1 on ${host.label} (PID 1 is '${pid1}'${booted ? ", systemctl is missing" : ""}); start the service yourself and set hostSetup: false on the component (or drop this HostService)` }];
    }
    if (spec.need !== undefined) {
      const d = await readDistro(host);
      if (!d?.facts) return [{ field, value, message: `${host.label}'s distribution (${d?.os.prettyName ?? "no /etc/os-release"}) is not in kvmshare's table, so the unit for '${spec.need}' is unknown; set unit instead` }];
      if (!servicesFor(d.facts, [spec.need]).length) return [{ field, value, message: `runs no service on ${d.os.prettyName}; remove this HostService` }];
    }
    return [];
  },

  render(spec) {
    return { active: spec.state === "running" ? "active" : "inactive", enabled: spec.enabled ? "enabled" : "disabled" };
  },

  async probe(host, spec) {
    const unit = await resolveUnit(host, spec);
    if (!unit) return undefined;
    return observe(host, unit);
  },

  compare(desired, observed) {
    return (["active", "enabled"] as const).filter((k) => desired[k] !== observed[k]);
  },

  async apply(host, ctx) {
    const unit = await resolveUnit(host, ctx.spec);
    if (!unit) throw new Error(`HostService ${ctx.spec.name}: no unit for '${ctx.spec.need}' on ${host.label}`);
    const before = await observe(host, unit);
    if (before.enabled === "not-found") {
      await host.run(["systemctl", "daemon-reload"]);
      const again = await observe(host, unit);
      if (again.enabled === "not-found") throw new Error(`HostService: ${unit} is not installed on ${host.label} (install its package first: a HostPackages resource, or the component's hostSetup)`);
    }
    if (before.enabled === "masked") throw new Error(`HostService: ${unit} is masked on ${host.label}; unmask it (systemctl unmask ${unit}) if it should run, or declare state: 'stopped', enabled: false`);
    const run = (verb: string) => {
      ctx.log(`${host.label}: systemctl ${verb} ${unit}`);
      return host.run(["systemctl", verb, "--", unit], { timeoutMs: 300_000 });
    };
    if (ctx.spec.enabled && before.enabled !== "enabled") await run("enable");
    if (!ctx.spec.enabled && before.enabled === "enabled") await run("disable");
    if (ctx.spec.state === "running") {
      const triggersChanged = ctx.previous !== undefined && JSON.stringify(ctx.previous.spec.restartOn ?? []) !== JSON.stringify(ctx.spec.restartOn);
      if (before.active !== "active") await run(before.active === "failed" ? "restart" : "start");
      else if (triggersChanged) await run(ctx.spec.onChange === "reload" ? "reload" : "restart");
      const after = await observe(host, unit);
      if (after.active !== "active") {
        const log = await host.run(["journalctl", "-u", unit, "-n", "15", "--no-pager", "-o", "cat"], { check: false });
        throw new Error(`HostService: ${unit} did not stay running on ${host.label} (${after.active}); its last journal lines:\n${log.stdout.trim()}`);
      }
    } else if (before.active !== "inactive") {
      await run("stop");
    }
  },

  async remove(host, spec, observed, log) {
    // The package owns the service: destroy leaves it as it is.
    log(`${host.label}: leaving ${observed?.unit ?? spec.unit ?? spec.need} as it is (the package owns it)`);
  },

  outputs(_spec, observed) {
    return { unit: observed?.unit ?? null };
  },

  id(spec) {
    return `HostService:${spec.name}`;
  },
};
