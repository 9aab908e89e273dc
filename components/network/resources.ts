/**
 * The host-side resources NetworkTuning is built from, one per kind. Each can also be used
 * on its own (its spec is the kind's fully resolved spec).
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import { EthtoolSpec, EthtoolState } from "./ethtoolKind";
import { LinkMtuSpec, LinkMtuState } from "./linkMtuKind";
import { SysctlProfileSpec, SysctlProfileState } from "./sysctlProfileKind";
import { TcShapingSpec, TcShapingState } from "./tcShapingKind";

/** The arguments of each network resource: where, and the kind's fully resolved spec. */
export interface NetResourceArgs<Spec> {
  /** Where to apply it. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The kind's spec with every default filled in (as `resolveNetworkTuning` builds it). */
  spec: pulumi.Input<Spec>;
}

/** sysctl values, set, read back and persisted to `<dir>/<name>.conf`. Outputs `path`, `values`. */
export class SysctlProfile extends HostResource<SysctlProfileSpec, SysctlProfileState> {
  declare public readonly path: pulumi.Output<string>;
  declare public readonly values: pulumi.Output<Record<string, string | null> | null>;
  constructor(name: string, args: NetResourceArgs<SysctlProfileSpec>, opts?: pulumi.CustomResourceOptions) {
    super("SysctlProfile", name, { connection: args.connection, spec: args.spec }, opts, ["path", "values"]);
  }
}

/** The MTU of one interface. Outputs `mtu` as observed. */
export class LinkMtu extends HostResource<LinkMtuSpec, LinkMtuState> {
  declare public readonly mtu: pulumi.Output<number | null>;
  constructor(name: string, args: NetResourceArgs<LinkMtuSpec>, opts?: pulumi.CustomResourceOptions) {
    super("LinkMtu", name, { connection: args.connection, spec: args.spec }, opts, ["mtu"]);
  }
}

/** The root qdisc (tbf or htb) of one interface. Outputs `qdisc` (the kind observed). */
export class TcShaping extends HostResource<TcShapingSpec, TcShapingState> {
  declare public readonly qdisc: pulumi.Output<string | null>;
  constructor(name: string, args: NetResourceArgs<TcShapingSpec>, opts?: pulumi.CustomResourceOptions) {
    super("TcShaping", name, { connection: args.connection, spec: args.spec }, opts, ["qdisc"]);
  }
}

/** ethtool offloads/rings/channels/coalescing of one interface. */
export class EthtoolSettings extends HostResource<EthtoolSpec, EthtoolState> {
  constructor(name: string, args: NetResourceArgs<EthtoolSpec>, opts?: pulumi.CustomResourceOptions) {
    super("EthtoolSettings", name, { connection: args.connection, spec: args.spec }, opts);
  }
}
