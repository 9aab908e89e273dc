/**
 * HostService's arguments (declared once, documented), the defaults table, the resolved spec the
 * kind gets, and the validation (pure: runs in the constructor and in the provider's check).
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker, isUnknown } from "../../core/validate";
import { checkLifelineUnit, checkReservedUnit, unitFileName } from "../../core/reserved";
import { HOST_NEEDS, HostNeed } from "./distroPackages";

export { unitFileName };

/** A systemd service that must be enabled and running (or stopped). Set exactly one of `unit` and `need`. */
export interface HostServiceArgs {
  /** The host. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The unit, e.g. `smbd` or `nfs-server.service`. Exactly one of `unit` and `need`. @default unset: taken from the per-distro table for `need` @fieldKind unit */
  unit?: string;
  /** What the service is for; its unit comes from the per-distro table on the host (`smbd` on Debian, `smb` on Fedora). @default unset: `unit` names it */
  need?: HostNeed;
  /** `running` (started now and at boot when `enabled`) or `stopped`. @default "running" */
  state?: "running" | "stopped";
  /** Started at boot (`systemctl enable`). @default true */
  enabled?: boolean;
  /**
   * Values that, when they change, restart (or reload) a running service: the hashes or outputs
   * of the configs it reads (NixOS `restartTriggers`), e.g. `[smbConf.observed.apply(o => o.sha256)]`.
   * @default [] (never restarted for a config change)
   * @fieldKind free opaque
   */
  restartOn?: pulumi.Input<string>[];
  /** What a change of `restartOn` does: `restart` or `reload` (the unit's `ExecReload=`). @default "restart" */
  onChange?: "restart" | "reload";
}

type Fields = Omit<Plain<Omit<HostServiceArgs, "connection">>, "restartOn"> & { restartOn?: string[] };

/** What the kind gets: every default filled (`unit`/`need`: the one that is set), plus the resource name. */
export type HostServiceSpec = Resolved<Fields, "unit" | "need"> & { name: string };

export const HOST_SERVICE_DEFAULTS: Defaults<Fields, "unit" | "need"> = {
  state: "running",
  enabled: true,
  restartOn: [],
  onChange: "restart",
};

const UNIT = /^[A-Za-z0-9:_.@\\][A-Za-z0-9:_.@\\-]{0,250}$/;

export function resolveHostService(name: string, a: Fields): HostServiceSpec {
  return { name, ...resolveDefaults<Fields, "unit" | "need">(a, HOST_SERVICE_DEFAULTS) };
}

/** Every problem with a HostService spec (pure). */
export function validateHostService(s: HostServiceSpec): Problem[] {
  const c = new Checker("HostService");
  c.required("name", s.name);
  if ((s.unit === undefined) === (s.need === undefined)) c.add("unit|need", { unit: s.unit, need: s.need }, "set exactly one of unit (a unit name) and need (looked up in the per-distro table)");
  if (s.unit !== undefined && !isUnknown(s.unit) && (typeof s.unit !== "string" || !UNIT.test(s.unit))) {
    c.add("unit", s.unit, "must be a systemd unit name such as 'smbd' or 'nfs-server.service'");
  } else {
    checkReservedUnit(c, "unit", s.unit);
    const how = s.state === "stopped" ? "declared stopped" : s.enabled === false ? "declared disabled at boot" : (s.restartOn?.length ?? 0) > 0 ? "restarted when restartOn changes" : undefined;
    checkLifelineUnit(c, "unit", s.unit, how);
  }
  if (s.need !== undefined && !isUnknown(s.need) && !HOST_NEEDS.includes(s.need)) c.add("need", s.need, `must be one of ${HOST_NEEDS.join(", ")}`);
  c.oneOf("state", s.state, ["running", "stopped"]);
  if (typeof s.enabled !== "boolean") c.add("enabled", s.enabled, "must be true or false");
  c.oneOf("onChange", s.onChange, ["restart", "reload"]);
  if (!isUnknown(s.restartOn) && (!Array.isArray(s.restartOn) || s.restartOn.some((v) => typeof v !== "string" && !isUnknown(v)))) {
    c.add("restartOn", s.restartOn, "must be a list of strings (config hashes or contents)");
  }
  if (s.state === "stopped" && (s.restartOn?.length ?? 0) > 0) c.add("restartOn", s.restartOn, "has no effect on a service declared stopped; remove it or set state: 'running'");
  return c.problems;
}
