/**
 * HostPackages' arguments (declared once, documented), the defaults table, the resolved spec
 * the kind gets, and the validation (pure: runs in the constructor and in the provider's check).
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker, isUnknown } from "../../core/validate";
import { checkPackageName } from "../../core/reserved";
import { HOST_NEEDS, HostNeed } from "./distroPackages";

/** Packages a host must have. */
export interface HostPackagesArgs {
  /** The host. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** What the host must be able to do; names come from the per-distro table (`distroPackages.ts`). @default [] */
  needs?: HostNeed[];
  /** Further package names, the same on every distribution; names starting with `-` are refused. @default [] @fieldKind package */
  packages?: string[];
  /**
   * On destroy, uninstall the packages this resource installed (never ones that were there
   * before it, nor ones another kvmshare resource also installed).
   * @default false (packages stay installed)
   */
  removePackages?: boolean;
  /** Where the list of packages this resource installed is kept on the host. @default "/var/lib/kvmshare/packages" @fieldKind path dir */
  recordDir?: string;
}

type Fields = Plain<Omit<HostPackagesArgs, "connection">>;

/** What the kind gets: every default filled, plus the resource name (the record file's name). */
export type HostPackagesSpec = Resolved<Fields> & { name: string };

export const HOST_PACKAGES_DEFAULTS: Defaults<Fields> = {
  needs: [],
  packages: [],
  removePackages: false,
  recordDir: "/var/lib/kvmshare/packages",
};

export function resolveHostPackages(name: string, a: Fields): HostPackagesSpec {
  return { name, ...resolveDefaults<Fields>(a, HOST_PACKAGES_DEFAULTS) };
}

/** Every problem with a HostPackages spec (pure). */
export function validateHostPackages(s: HostPackagesSpec): Problem[] {
  const c = new Checker("HostPackages");
  c.required("name", s.name).name("name", s.name, 100);
  if (!isUnknown(s.needs)) {
    if (!Array.isArray(s.needs)) c.add("needs", s.needs, `must be a list of ${HOST_NEEDS.join(", ")}`);
    else {
      const bad = s.needs.filter((n) => !HOST_NEEDS.includes(n));
      if (bad.length) c.add("needs", bad, `unknown need(s); known: ${HOST_NEEDS.join(", ")}`);
    }
  }
  if (!isUnknown(s.packages)) {
    if (!Array.isArray(s.packages)) c.add("packages", s.packages, "must be a list of package names, e.g. ['rsync']");
    else {
      s.packages.forEach((p, i) => checkPackageName(c, `packages[${i}]`, p));
    }
  }
  if (typeof s.removePackages !== "boolean") c.add("removePackages", s.removePackages, "must be true or false");
  c.absPath("recordDir", s.recordDir, "dir");
  return c.problems;
}
