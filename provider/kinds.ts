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

/** Each kind's module, below `components/`. */
const MODULES: { readonly [K in KindId]: string } = {
  ManagedFile: "files/managedFileKind",
  ZfsPool: "storage/zfsPoolKind",
  ZfsDataset: "storage/zfsDatasetKind",
  ZfsSnapshotPolicy: "protection/zfsSnapshotPolicyKind",
  ZfsReplication: "protection/zfsReplicationKind",
  SanoidPolicy: "protection/sanoidPolicyKind",
  SyncoidReplication: "protection/syncoidReplicationKind",
  ZfsRestoreDrill: "protection/restoreDrillKind",
  NfsExport: "nfs/nfsExportKind",
  KernelNfsServer: "nfs/kernelNfsServerKind",
  SambaServer: "smb/sambaServerKind",
  SmbShare: "smb/smbShareKind",
  SmbUser: "smb/smbUserKind",
  SysctlProfile: "network/sysctlProfileKind",
  LinkMtu: "network/linkMtuKind",
  TcShaping: "network/tcShapingKind",
  EthtoolSettings: "network/ethtoolKind",
  ShareFirewall: "firewall/shareFirewallKind",
  GuestMount: "guest/guestMountKind",
  VirtioFsPassthrough: "guest/virtioFsPassthroughKind",
  ParallelTransfer: "transfer/parallelTransferKind",
  HostPackages: "host/hostPackagesKind",
  HostService: "host/hostServiceKind",
  GuestMountHealth: "guest/mountHealthKind",
  KerberosRealm: "kerberos/kerberosRealmKind",
  KerberosClient: "kerberos/kerberosClientKind",
  KerberosKeytab: "kerberos/kerberosKeytabKind",
  KerberosOtpUser: "kerberos/kerberosOtpUserKind",
  OtpRadius: "kerberos/otpRadiusKind",
  SharePerformanceCheck: "perf/sharePerformanceCheckKind",
  VaultAgent: "vault/vaultAgentKind",
  Tlshd: "nfs/tlshdKind",
};

/** `holdsData` of the kinds that hold data. */
const HOLDS_DATA: { readonly [K in KindId]?: string } = {
  ZfsPool: "the pool would be created empty on the new host and, with allowDestroy, destroyed with all its data on the old one",
  ZfsDataset: "the dataset would be created empty on the new host and, with allowDestroy, destroyed with its files and snapshots on the old one",
  ZfsSnapshotPolicy: "the policy's snapshots on the old host would be pruned and a new series started on the new one",
  ZfsReplication: "the replica would be started again from a full send on the new host, and the old target's copy left behind",
  SanoidPolicy: "sanoid's snapshots on the old host would be pruned by its config there and a new series started on the new one",
  SyncoidReplication: "the replica would be started again from a full send on the new host, and the old target's copy left behind",
  ParallelTransfer: "the copy would be made again on the new host, and with allowDestroy the copy on the old host removed",
  KerberosRealm: "the realm's database (every principal and key) would be created empty on the new host, and with allowDestroy destroyed on the old one",
};

function entry(id: KindId): KindEntry {
  const load = () => (require(`../components/${MODULES[id]}`) as { kind: unknown }).kind as HostKind<Record<string, unknown>, State>;
  const holdsData = HOLDS_DATA[id];
  return holdsData === undefined ? { load } : { load, holdsData };
}

export const KINDS = Object.fromEntries(KIND_IDS.map((id) => [id, entry(id)])) as { readonly [K in KindId]: KindEntry };

/** The registry entry for a kind id; a clear error when state names a kind this version lacks. */
export function kindEntry(id: string): KindEntry {
  const e = Object.prototype.hasOwnProperty.call(KINDS, id) ? KINDS[id as KindId] : undefined;
  if (!e) {
    throw new Error(`kvmshare: this version has no host kind '${id}' (known: ${KIND_IDS.join(", ")}); the state was written by another kvmshare version: install that version, or the one that replaced the kind`);
  }
  return e;
}
