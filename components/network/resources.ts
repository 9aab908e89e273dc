/**
 * The host-side resources NetworkTuning is built from, one per kind. Each can also be used
 * on its own (its spec is the kind's fully resolved spec).
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { hostResourceClass, out } from "../../core/component";
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
export const SysctlProfile = hostResourceClass<SysctlProfileSpec, SysctlProfileState>()("SysctlProfile", {
  path: out<string>(),
  values: out<Record<string, string | null> | null>(),
});
export type SysctlProfile = InstanceType<typeof SysctlProfile>;

/** The MTU of one interface. Outputs `mtu` as observed. */
export const LinkMtu = hostResourceClass<LinkMtuSpec, LinkMtuState>()("LinkMtu", { mtu: out<number | null>() });
export type LinkMtu = InstanceType<typeof LinkMtu>;

/** The root qdisc (tbf or htb) of one interface. Outputs `qdisc` (the kind observed). */
export const TcShaping = hostResourceClass<TcShapingSpec, TcShapingState>()("TcShaping", { qdisc: out<string | null>() });
export type TcShaping = InstanceType<typeof TcShaping>;

/** ethtool offloads/rings/channels/coalescing of one interface. */
export const EthtoolSettings = hostResourceClass<EthtoolSpec, EthtoolState>()("EthtoolSettings", {});
export type EthtoolSettings = InstanceType<typeof EthtoolSettings>;
