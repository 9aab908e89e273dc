/**
 * Type-level test (checked by `tsc --noEmit` and by exactSpecs.test.ts): every host kind's
 * spec type is exact, so a misspelled field does not compile. Each `@ts-expect-error` below
 * must find an error: if a spec type gets an index signature (`[k: string]: unknown`) back, the
 * misspelling compiles, the directive is unused, and this file fails to type-check.
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

export const pool = {
  // @ts-expect-error misspelled field (allowDestroy)
  alowDestroy: true,
} satisfies Partial<ZfsPoolSpec>;

export const transfer = {
  source: "/srv/a",
  // @ts-expect-error misspelled field (changeDetection)
  changeDetect: "mtime",
} satisfies Partial<ParallelTransferSpec>;

export const firewall = {
  // @ts-expect-error misspelled field (logPrefix)
  logprefix: "kvmshare",
} satisfies Partial<ShareFirewallSpec>;

export const ethtool = {
  // @ts-expect-error misspelled field (offloads)
  offload: { tso: true },
} satisfies Partial<EthtoolSpec>;

export const mtu = {
  // @ts-expect-error misspelled field (mtu)
  mut: 9000,
} satisfies Partial<LinkMtuSpec>;

export const sysctl = {
  // @ts-expect-error misspelled field (settings)
  setting: [],
} satisfies Partial<SysctlProfileSpec>;

export const tc = {
  // @ts-expect-error misspelled field (shaping)
  shape: {},
} satisfies Partial<TcShapingSpec>;

export const perf = {
  // @ts-expect-error misspelled field (name)
  nmae: "check",
} satisfies Partial<SharePerformanceCheckSpec>;

export const drill = {
  // @ts-expect-error misspelled field (source)
  sorce: "tank/a",
} satisfies Partial<ZfsRestoreDrillSpec>;

export const replication = {
  // @ts-expect-error misspelled field (source)
  sourse: "tank/a",
} satisfies Partial<ZfsReplicationSpec>;

export const snapshots = {
  // @ts-expect-error misspelled field (dataset)
  datset: "tank/a",
} satisfies Partial<ZfsSnapshotPolicySpec>;

/** A kind reads its spec's fields by name: a misspelled read does not compile either. */
export function readsExactly(kind: HostKind<ZfsDatasetSpec>, spec: ZfsDatasetSpec): unknown {
  kind.validate(spec);
  // @ts-expect-error misspelled field read (allowDestroy)
  return spec.allowDestory;
}
