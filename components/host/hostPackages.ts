import * as pulumi from "@pulumi/pulumi";
import { Component, hostResourceClass, out } from "../../core/component";
import { HostResource } from "../../core/hostResource";
import { HostPackagesArgs, HostPackagesSpec, resolveHostPackages, validateHostPackages } from "./hostPackagesArgs";
import { HostPackagesState } from "./hostPackagesKind";

export type { HostPackagesArgs } from "./hostPackagesArgs";

const HostPackagesResource = hostResourceClass<HostPackagesSpec, HostPackagesState>()("HostPackages", { installedByKvmshare: out<string[]>() });

/**
 * Packages a host must have, as declared state: installed with apt-get or dnf (names from the
 * per-distro table), a package removed by hand is drift, and destroy removes only what this
 * resource installed, only with `removePackages: true`.
 */
export class HostPackages extends Component<HostPackages> {
  /** What was observed on the host (distribution, wanted, missing, installed by kvmshare). */
  declare public readonly observed: pulumi.Output<HostPackagesState | null>;
  /** The host resource, for `dependsOn`. */
  public readonly resource: HostResource<HostPackagesSpec, HostPackagesState>;

  constructor(name: string, args: HostPackagesArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:host:HostPackages", name, opts);
    const { connection, ...plain } = args;
    const spec = resolveHostPackages(name, plain);
    this.refuse(validateHostPackages(spec));
    // Not a HostComponent: that one creates HostPackages for its own setup.
    this.resource = new HostPackagesResource(`${name}-packages`, { connection, spec }, { parent: this, dependsOn: opts.dependsOn });
    this.publish({ observed: this.resource.observed });
  }
}
