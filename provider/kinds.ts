/**
 * The registry of host kinds, by stable logical id (the ids are declared in `core/kindIds.ts`;
 * this map must name each of them, and nothing else). The provider serialized into Pulumi state
 * names a kind by this id (never by a file path), and loads kvmshare itself by package name
 * (`loadProviderImpl` in `core/hostResource.ts`), so a stack stood up from one checkout refreshes, updates and destroys
 * from another, and after an upgrade that moves files around. An id, once released, is kept
 * here for as long as any state may still name it.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type { HostKind, State } from "../core/hostKind";
import { KIND_IDS, KindId } from "../core/kindIds";

export interface KindEntry {
  /** Load the kind's module (lazily: only the kinds a stack uses are loaded). */
  load(): HostKind<Record<string, unknown>, State>;
  /**
   * Set for kinds that hold data (a pool, a dataset, snapshots, a copy's destination): what
   * happens to that data when the resource is re-created on another host. Such a resource is
   * not moved to another host unless its spec says `allowDestroy: true`.
   */
  holdsData?: string;
}

const k = (m: { kind: unknown }) => m.kind as HostKind<Record<string, unknown>, State>;

export const KINDS: { readonly [K in KindId]: KindEntry } = {
  ManagedFile: { load: () => k(require("../components/files/managedFileKind")) },
  ZfsPool: { load: () => k(require("../components/storage/zfsPoolKind")), holdsData: "the pool would be created empty on the new host and, with allowDestroy, destroyed with all its data on the old one" },
  ZfsDataset: { load: () => k(require("../components/storage/zfsDatasetKind")), holdsData: "the dataset would be created empty on the new host and, with allowDestroy, destroyed with its files and snapshots on the old one" },
  ZfsSnapshotPolicy: { load: () => k(require("../components/protection/zfsSnapshotPolicyKind")), holdsData: "the policy's snapshots on the old host would be pruned and a new series started on the new one" },
  ZfsReplication: { load: () => k(require("../components/protection/zfsReplicationKind")), holdsData: "the replica would be started again from a full send on the new host, and the old target's copy left behind" },
  SanoidPolicy: { load: () => k(require("../components/protection/sanoidPolicyKind")), holdsData: "sanoid's snapshots on the old host would be pruned by its config there and a new series started on the new one" },
  SyncoidReplication: { load: () => k(require("../components/protection/syncoidReplicationKind")), holdsData: "the replica would be started again from a full send on the new host, and the old target's copy left behind" },
  ZfsRestoreDrill: { load: () => k(require("../components/protection/restoreDrillKind")) },
  NfsExport: { load: () => k(require("../components/nfs/nfsExportKind")) },
  KernelNfsServer: { load: () => k(require("../components/nfs/kernelNfsServerKind")) },
  SambaServer: { load: () => k(require("../components/smb/sambaServerKind")) },
  SmbShare: { load: () => k(require("../components/smb/smbShareKind")) },
  SmbUser: { load: () => k(require("../components/smb/smbUserKind")) },
  SysctlProfile: { load: () => k(require("../components/network/sysctlProfileKind")) },
  LinkMtu: { load: () => k(require("../components/network/linkMtuKind")) },
  TcShaping: { load: () => k(require("../components/network/tcShapingKind")) },
  EthtoolSettings: { load: () => k(require("../components/network/ethtoolKind")) },
  ShareFirewall: { load: () => k(require("../components/firewall/shareFirewallKind")) },
  GuestMount: { load: () => k(require("../components/guest/guestMountKind")) },
  VirtioFsPassthrough: { load: () => k(require("../components/guest/virtioFsPassthroughKind")) },
  ParallelTransfer: { load: () => k(require("../components/transfer/parallelTransferKind")), holdsData: "the copy would be made again on the new host, and with allowDestroy the copy on the old host removed" },
  HostPackages: { load: () => k(require("../components/host/hostPackagesKind")) },
  HostService: { load: () => k(require("../components/host/hostServiceKind")) },
  GuestMountHealth: { load: () => k(require("../components/guest/mountHealthKind")) },
  KerberosRealm: { load: () => k(require("../components/kerberos/kerberosRealmKind")), holdsData: "the realm's database (every principal and key) would be created empty on the new host, and with allowDestroy destroyed on the old one" },
  KerberosClient: { load: () => k(require("../components/kerberos/kerberosClientKind")) },
  KerberosKeytab: { load: () => k(require("../components/kerberos/kerberosKeytabKind")) },
  KerberosOtpUser: { load: () => k(require("../components/kerberos/kerberosOtpUserKind")) },
  OtpRadius: { load: () => k(require("../components/kerberos/otpRadiusKind")) },
  SharePerformanceCheck: { load: () => k(require("../components/perf/sharePerformanceCheckKind")) },
  Tlshd: { load: () => k(require("../components/nfs/tlshdKind")) },
};

/** The registry entry for a kind id; a clear error when state names a kind this version lacks. */
export function kindEntry(id: string): KindEntry {
  const e = Object.prototype.hasOwnProperty.call(KINDS, id) ? KINDS[id as KindId] : undefined;
  if (!e) {
    throw new Error(`kvmshare: this version has no host kind '${id}' (known: ${KIND_IDS.join(", ")}); the state was written by another kvmshare version: install that version, or the one that replaced the kind`);
  }
  return e;
}
