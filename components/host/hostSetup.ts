/**
 * What a component needs on its host, as children: a `HostPackages` (the packages of its needs)
 * and one `HostService` per service the table lists for them. Components take one switch,
 * `hostSetup` (`HostSetupArgs`, which their Args extend); the helpers here create the children
 * and hold the component's own host resource back until the packages are there, so its
 * preflight (`nfsconf`, `testparm`, `mount.nfs` ...) does not refuse a bare host at preview.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostNeed } from "./distroPackages";
import { HostPackages } from "./hostPackages";
import { HostService } from "./hostService";

/** `hostSetup`'s object form. */
export interface HostSetupOptions {
  /** Enable and start the services the component needs (`HostService`). @default true */
  services?: boolean;
  /** On destroy, uninstall the packages the setup installed (never ones that were there before). @default false */
  removePackages?: boolean;
}

/** The one switch every component with host requirements takes (its Args extend this). */
export interface HostSetupArgs {
  /**
   * Install the packages the component needs (apt-get / dnf, names from the per-distro table in
   * `components/host/distroPackages.ts`) and enable and start its services, as `HostPackages` and
   * `HostService` children. `false` for hosts whose packages and services are managed otherwise.
   * @default false: opt-in for now, so an upgrade never starts installing packages or enabling
   * services on hosts that did not ask for it. (Each component already knows the default it would
   * take once the bare-host scenario is proven: on where it uses the system's own paths.)
   */
  hostSetup?: boolean | HostSetupOptions;
}

/** The children a component's host setup created. */
export interface HostSetup {
  packages: HostPackages;
  /** Resolves once the packages are installed (unknown at preview while they are not). */
  ready: pulumi.Output<boolean>;
}

/**
 * Whether the setup is on: only when the user asked for it. `auto` is the component's own default
 * (on where it uses the system's own paths), not applied yet: see `hostSetup`'s doc.
 */
export function hostSetupOn(setting: boolean | HostSetupOptions | undefined, auto: boolean): boolean {
  void auto;
  return setting !== undefined && setting !== false;
}

/** The host setup a component's resource needs (created only when the user's switch is on). */
export interface HostSetupPlan {
  /** The needs (rows of the per-distro package table). */
  needs: HostNeed[];
  /** The component's `hostSetup` switch, as the user gave it. */
  setting: boolean | HostSetupOptions | undefined;
  /** The default the component would take (see `hostSetupOn`). */
  auto: boolean;
  /** Also enable and start the needs' services, after the component's resource. @default false */
  services?: boolean;
}

/**
 * Create the packages child of a component (nothing when the switch is off). `name` is the
 * component's name; the child is `${name}-host`.
 */
export function hostSetupFor(parent: pulumi.Resource, name: string, connection: pulumi.Input<ConnectionSpec> | undefined, plan: HostSetupPlan): HostSetup | undefined {
  if (!hostSetupOn(plan.setting, plan.auto) || !plan.needs.length) return undefined;
  const removePackages = typeof plan.setting === "object" && plan.setting.removePackages === true;
  const packages = new HostPackages(`${name}-host`, { connection, needs: plan.needs, removePackages }, { parent });
  return { packages, ready: packages.observed.apply(() => true) };
}

/**
 * `spec` once the packages are installed: the component's host resource then waits for them,
 * and at preview of a bare host its spec is unknown, so its preflight is left for `up`.
 */
export function afterSetup<T>(setup: HostSetup | undefined, spec: pulumi.Input<T>): pulumi.Input<T> {
  if (!setup) return spec;
  return pulumi.all([setup.ready, spec]).apply(([, s]) => s as T) as pulumi.Output<T>;
}

/** The services of the plan's needs as `HostService` children, after `dependsOn` (the component's config). */
export function hostServicesFor(
  parent: pulumi.Resource,
  name: string,
  connection: pulumi.Input<ConnectionSpec> | undefined,
  plan: HostSetupPlan,
  setup: HostSetup | undefined,
  dependsOn: pulumi.Resource[] = [],
): HostService[] {
  if (!setup || (typeof plan.setting === "object" && plan.setting.services === false)) return [];
  return plan.needs.map((need) => new HostService(`${name}-${need}`, { connection, need }, { parent, dependsOn: [setup.packages, ...dependsOn] }));
}
