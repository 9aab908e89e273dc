/**
 * Type-level test (checked by `tsc --noEmit` and by exactSpecs.test.ts): every host kind's
 * spec type is exact, so a misspelled field does not compile. Each `@ts-expect-error` below
 * must find an error, and each `NotAField` entry must be `true`: if a spec type gets an index
 * signature (`[k: string]: unknown`) back, the misspelling compiles, and this file does not.
 */
import type { ShareFirewallSpec } from "../../components/firewall/shareFirewallArgs";
import type { EthtoolSpec } from "../../components/network/ethtoolKind";
import type { LinkMtuSpec } from "../../components/network/linkMtuKind";
import type { SysctlProfileSpec } from "../../components/network/sysctlProfileKind";
import type { TcShapingSpec } from "../../components/network/tcShapingKind";
import type { SharePerformanceCheckSpec } from "../../components/perf/sharePerformanceCheckArgs";
import type { ZfsRestoreDrillSpec } from "../../components/protection/restoreDrillArgs";
import type { ZfsReplicationSpec } from "../../components/protection/zfsReplicationArgs";
import type { ZfsSnapshotPolicySpec } from "../../components/protection/zfsSnapshotPolicyArgs";
import type { ZfsDatasetSpec } from "../../components/storage/zfsDatasetArgs";
import type { ZfsPoolSpec } from "../../components/storage/zfsPoolArgs";
import type { ParallelTransferSpec } from "../../components/transfer/parallelTransferArgs";
import type { HostKind } from "../../core/hostKind";

/** A whole spec, exactly: the literal must name every required field and nothing else. */
export const dataset = {
  name: "tank/vmshare",
  allowDestroy: false,
  properties: { compression: "lz4", atime: "off" },
} satisfies ZfsDatasetSpec;

export const datasetTypo = {
  name: "tank/vmshare",
  // @ts-expect-error misspelled field (allowDestroy)
  allowDestory: true,
} satisfies Partial<ZfsDatasetSpec>;

export const datasetPropertyTypo = {
  name: "tank/vmshare",
  // @ts-expect-error misspelled property (compression) is not a ZFS property kvmshare knows
  properties: { compresion: "lz4" },
} satisfies Partial<ZfsDatasetSpec>;

/** A property's value type comes from its rule in PROPERTY_RULES (declared once). */
export const datasetPropertyValue = {
  // @ts-expect-error atime's rule takes "on" | "off"
  properties: { atime: "of" },
} satisfies Partial<ZfsDatasetSpec>;

/** `true` while `K` is not a field of `S`; an index signature makes every name a field (`false`). */
type NotAField<S, K extends string> = K extends keyof S ? false : true;

/** One misspelling per spec type: each entry stops compiling if that spec gets an index signature back. */
export const misspellingsAreNotFields: [
  NotAField<ZfsDatasetSpec, "allowDestory">,
  NotAField<ZfsPoolSpec, "alowDestroy">,
  NotAField<ParallelTransferSpec, "changeDetect">,
  NotAField<ShareFirewallSpec, "logprefix">,
  NotAField<EthtoolSpec, "offload">,
  NotAField<LinkMtuSpec, "mut">,
  NotAField<SysctlProfileSpec, "setting">,
  NotAField<TcShapingSpec, "shape">,
  NotAField<SharePerformanceCheckSpec, "nmae">,
  NotAField<ZfsRestoreDrillSpec, "sorce">,
  NotAField<ZfsReplicationSpec, "sourse">,
  NotAField<ZfsSnapshotPolicySpec, "datset">,
] = [true, true, true, true, true, true, true, true, true, true, true, true];

/** A kind reads its spec's fields by name: a misspelled read does not compile either. */
export function readsExactly(kind: HostKind<ZfsDatasetSpec>, spec: ZfsDatasetSpec): unknown {
  kind.validate(spec);
  // @ts-expect-error misspelled field read (allowDestroy)
  return spec.allowDestory;
}
