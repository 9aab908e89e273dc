/**
 * The base of the components that own a host-side resource: `hostResource` creates it as the
 * child `${name}-<role>`, after the component's host setup (its packages, `${name}-host`) when
 * `hostSetup` is on, and with `services` the services it needs, after it.
 */
import * as pulumi from "@pulumi/pulumi";
import { Component } from "../../core/component";
import { State } from "../../core/hostKind";
import { HostResource, HostResourceArgs } from "../../core/hostResource";
import type { KindId } from "../../core/kindIds";
import { HostService } from "./hostService";
import { afterSetup, HostSetup, HostSetupPlan, hostServicesFor, hostSetupFor } from "./hostSetup";

export interface OwnResourceArgs<Spec extends object> extends HostResourceArgs<Spec> {
  /**
   * The setup to create for it, or one another component made that it waits for (a
   * `SambaServer`'s, for its shares and users). @default none
   */
  setup?: HostSetupPlan | HostSetup;
}

/** The resource `hostResource` made, and the setup and services it made with it. */
export interface OwnResource<R> {
  resource: R;
  setup?: HostSetup;
  services: HostService[];
}

type ResourceClass<Spec extends object, R> = new (name: string, args: HostResourceArgs<Spec>, opts?: pulumi.CustomResourceOptions) => R;

export abstract class HostComponent<Self> extends Component<Self> {
  /** The component's host resource: a `hostResourceClass`, or a kind id for a plain `HostResource`; named `${name}-${role}`. */
  protected hostResource<Spec extends object, R>(kind: ResourceClass<Spec, R>, role: string, args: OwnResourceArgs<Spec>, opts?: pulumi.CustomResourceOptions): OwnResource<R>;
  protected hostResource<Spec extends object, S extends State>(kind: KindId, role: string, args: OwnResourceArgs<Spec>, opts?: pulumi.CustomResourceOptions): OwnResource<HostResource<Spec, S>>;
  protected hostResource(
    kind: KindId | ResourceClass<object, HostResource<object>>,
    role: string,
    args: OwnResourceArgs<object>,
    opts: pulumi.CustomResourceOptions = {},
  ): OwnResource<HostResource<object>> {
    const { setup: given, ...resourceArgs } = args;
    const plan = given && "needs" in given ? given : undefined;
    const setup = plan ? hostSetupFor(this, this.resourceName, args.connection, plan) : (given as HostSetup | undefined);
    const name = `${this.resourceName}-${role}`;
    const childArgs = { ...resourceArgs, spec: afterSetup(setup, args.spec) };
    const childOpts = { ...opts, parent: this };
    const resource = typeof kind === "string" ? new HostResource(kind, name, childArgs, childOpts) : new kind(name, childArgs, childOpts);
    const services = plan?.services ? hostServicesFor(this, this.resourceName, args.connection, plan, setup, [resource]) : [];
    return { resource, setup, services };
  }
}
