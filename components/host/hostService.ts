import * as pulumi from "@pulumi/pulumi";
import { Component, hostResourceClass, out } from "../../core/component";
import { HostResource } from "../../core/hostResource";
import { HostServiceArgs, HostServiceSpec, resolveHostService, validateHostService } from "./hostServiceArgs";
import { HostServiceState } from "./hostServiceKind";

export type { HostServiceArgs } from "./hostServiceArgs";

const HostServiceResource = hostResourceClass<HostServiceSpec, HostServiceState>()("HostService", { unit: out<string | null>() });

/**
 * A systemd service as declared state: enabled and running (or stopped), restarted or reloaded
 * when one of `restartOn` changed; stopped or disabled by hand is drift, and `up` repairs it.
 */
export class HostService extends Component<HostService> {
  /** The unit as observed (resolved from the table for `need`). */
  declare public readonly unit: pulumi.Output<string | null>;
  declare public readonly observed: pulumi.Output<HostServiceState | null>;
  /** The host resource, for `dependsOn`. */
  public readonly resource: HostResource<HostServiceSpec, HostServiceState>;

  constructor(name: string, args: HostServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:host:HostService", name, opts);
    const { connection, restartOn, ...plain } = args;
    const known = resolveHostService(name, plain);
    this.refuse(validateHostService({ ...known, restartOn: [] }));
    const spec = pulumi.all(restartOn ?? []).apply((r) => resolveHostService(name, { ...plain, restartOn: r }));
    // Not a HostComponent: that one creates HostService for its own setup.
    const resource = new HostServiceResource(`${name}-service`, { connection, spec }, { parent: this, dependsOn: opts.dependsOn });
    this.resource = resource;
    this.publish({ unit: resource.unit, observed: resource.observed });
  }
}
