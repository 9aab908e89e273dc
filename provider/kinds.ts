/**
 * The registry of host kinds, by stable logical id (the ids are declared in `core/kindIds.ts`;
 * this map must name each of them, and nothing else). The provider serialized into Pulumi state
 * names a kind by this id (never by a file path), and loads kvmshare itself by package name
 * (`providerLoader.ts`), so a stack stood up from one checkout refreshes, updates and destroys
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

/** One area's kinds: each id with its module under `components/<area>/` (and `holdsData` where it holds data). */
function area<K extends KindId>(dir: string, modules: { readonly [Id in K]: string | { module: string; holdsData: string } }): { readonly [Id in K]: KindEntry } {
  return Object.fromEntries(
    Object.entries<string | { module: string; holdsData: string }>(modules).map(([id, m]) => {
      const { module, holdsData } = typeof m === "string" ? { module: m, holdsData: undefined } : m;
      const entry: KindEntry = { load: () => (require(`../components/${dir}/${module}`) as { kind: HostKind<Record<string, unknown>, State> }).kind };
      return [id, holdsData === undefined ? entry : { ...entry, holdsData }];
    }),
  ) as { readonly [Id in K]: KindEntry };
}

export const KINDS: { readonly [K in KindId]: KindEntry } = {
  ...area("files", {
    ManagedFile: "managedFileKind",
  }),
  ...area("storage", {
    ZfsPool: { module: "zfsPoolKind", holdsData: "the pool would be created empty on the new host and, with allowDestroy, destroyed with all its data on the old one" },
    ZfsDataset: { module: "zfsDatasetKind", holdsData: "the dataset would be created empty on the new host and, with allowDestroy, destroyed with its files and snapshots on the old one" },
  }),
  ...area("protection", {
    ZfsSnapshotPolicy: { module: "zfsSnapshotPolicyKind", holdsData: "the policy's snapshots on the old host would be pruned and a new series started on the new one" },
    ZfsReplication: { module: "zfsReplicationKind", holdsData: "the replica would be started again from a full send on the new host, and the old target's copy left behind" },
    SanoidPolicy: { module: "sanoidPolicyKind", holdsData: "sanoid's snapshots on the old host would be pruned by its config there and a new series started on the new one" },
    SyncoidReplication: { module: "syncoidReplicationKind", holdsData: "the replica would be started again from a full send on the new host, and the old target's copy left behind" },
    ZfsRestoreDrill: "restoreDrillKind",
  }),
  ...area("nfs", {
    NfsExport: "nfsExportKind",
    KernelNfsServer: "kernelNfsServerKind",
  }),
  ...area("smb", {
    SambaServer: "sambaServerKind",
    SmbShare: "smbShareKind",
    SmbUser: "smbUserKind",
  }),
  ...area("network", {
    SysctlProfile: "sysctlProfileKind",
    LinkMtu: "linkMtuKind",
    TcShaping: "tcShapingKind",
    EthtoolSettings: "ethtoolKind",
  }),
  ...area("firewall", {
    ShareFirewall: "shareFirewallKind",
  }),
  ...area("guest", {
    GuestMount: "guestMountKind",
    VirtioFsPassthrough: "virtioFsPassthroughKind",
    GuestMountHealth: "mountHealthKind",
  }),
  ...area("transfer", {
    ParallelTransfer: { module: "parallelTransferKind", holdsData: "the copy would be made again on the new host, and with allowDestroy the copy on the old host removed" },
  }),
  ...area("host", {
    HostPackages: "hostPackagesKind",
    HostService: "hostServiceKind",
  }),
  ...area("kerberos", {
    KerberosRealm: { module: "kerberosRealmKind", holdsData: "the realm's database (every principal and key) would be created empty on the new host, and with allowDestroy destroyed on the old one" },
    KerberosClient: "kerberosClientKind",
    KerberosKeytab: "kerberosKeytabKind",
    KerberosOtpUser: "kerberosOtpUserKind",
    OtpRadius: "otpRadiusKind",
  }),
  ...area("perf", {
    SharePerformanceCheck: "sharePerformanceCheckKind",
  }),
};

/** The registry entry for a kind id; a clear error when state names a kind this version lacks. */
export function kindEntry(id: string): KindEntry {
  const e = Object.prototype.hasOwnProperty.call(KINDS, id) ? KINDS[id as KindId] : undefined;
  if (!e) {
    throw new Error(`kvmshare: this version has no host kind '${id}' (known: ${KIND_IDS.join(", ")}); the state was written by another kvmshare version: install that version, or the one that replaced the kind`);
  }
  return e;
}
