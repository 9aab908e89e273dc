import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { HostPackagesArgs, HostPackagesSpec, resolveHostPackages, validateHostPackages } from "./hostPackagesArgs";
import { HostPackagesState } from "./hostPackagesKind";

export type { HostPackagesArgs } from "./hostPackagesArgs";

/**
 * Packages a host must have, as declared state: installed with apt-get or dnf (names from the
 * per-distro table), a package removed by hand is drift, and destroy removes only what this
 * resource installed, only with `removePackages: true`.
 */
export class HostPackages extends pulumi.ComponentResource {
  /** What was observed on the host (distribution, wanted, missing, installed by kvmshare). */
  declare public readonly observed: pulumi.Output<HostPackagesState | null>;
  /** The host resource, for `dependsOn`. */
  public readonly resource: HostResource<HostPackagesSpec, HostPackagesState>;

  constructor(name: string, args: HostPackagesArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:host:HostPackages", name, {}, opts);
    const { connection, ...plain } = args;
    const spec = resolveHostPackages(name, plain);
    const problems = validateHostPackages(spec);
    if (problems.length) throw new ValidationError(`HostPackages ${name}`, problems);
    this.resource = new HostResource<HostPackagesSpec, HostPackagesState>("HostPackages", `${name}-packages`, { connection, spec }, { parent: this, dependsOn: opts.dependsOn }, ["installedByKvmshare"]);
    this.observed = this.resource.observed;
    this.registerOutputs({ observed: this.observed });
  }
}
