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

/** Each area's kinds, by id: the module of a kind is `components/<area>/<id, first letter lower-case>Kind` unless `MODULES` names another. */
const AREAS = {
  files: ["ManagedFile"],
  storage: ["ZfsPool", "ZfsDataset"],
  protection: ["ZfsSnapshotPolicy", "ZfsReplication", "SanoidPolicy", "SyncoidReplication", "ZfsRestoreDrill"],
  nfs: ["NfsExport", "KernelNfsServer"],
  smb: ["SambaServer", "SmbShare", "SmbUser"],
  network: ["SysctlProfile", "LinkMtu", "TcShaping", "EthtoolSettings"],
  firewall: ["ShareFirewall"],
  guest: ["GuestMount", "VirtioFsPassthrough", "GuestMountHealth"],
  transfer: ["ParallelTransfer"],
  host: ["HostPackages", "HostService"],
  kerberos: ["KerberosRealm", "KerberosClient", "KerberosKeytab", "KerberosOtpUser", "OtpRadius"],
  perf: ["SharePerformanceCheck"],
} as const satisfies Record<string, readonly KindId[]>;

/** The kinds whose module is not named after the id. */
const MODULES: Partial<Record<KindId, string>> = { ZfsRestoreDrill: "restoreDrillKind", EthtoolSettings: "ethtoolKind", GuestMountHealth: "mountHealthKind" };

/** `holdsData` of the kinds that hold data. */
const HOLDS_DATA: Partial<Record<KindId, string>> = {
  ZfsPool: "the pool would be created empty on the new host and, with allowDestroy, destroyed with all its data on the old one",
  ZfsDataset: "the dataset would be created empty on the new host and, with allowDestroy, destroyed with its files and snapshots on the old one",
  ZfsSnapshotPolicy: "the policy's snapshots on the old host would be pruned and a new series started on the new one",
  ZfsReplication: "the replica would be started again from a full send on the new host, and the old target's copy left behind",
  SanoidPolicy: "sanoid's snapshots on the old host would be pruned by its config there and a new series started on the new one",
  SyncoidReplication: "the replica would be started again from a full send on the new host, and the old target's copy left behind",
  ParallelTransfer: "the copy would be made again on the new host, and with allowDestroy the copy on the old host removed",
  KerberosRealm: "the realm's database (every principal and key) would be created empty on the new host, and with allowDestroy destroyed on the old one",
};

/** Compiles only when `AREAS` names every id of `core/kindIds.ts`. */
type Unlisted = Exclude<KindId, (typeof AREAS)[keyof typeof AREAS][number]>;
const everyIdListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyIdListed;

export const KINDS: { readonly [K in KindId]: KindEntry } = Object.fromEntries(
  Object.entries(AREAS).flatMap(([area, ids]) =>
    ids.map((id: KindId) => {
      const module = `../components/${area}/${MODULES[id] ?? `${id[0].toLowerCase()}${id.slice(1)}Kind`}`;
      const entry: KindEntry = { load: () => (require(module) as { kind: HostKind<Record<string, unknown>, State> }).kind };
      const holdsData = HOLDS_DATA[id];
      return [id, holdsData === undefined ? entry : { ...entry, holdsData }];
    }),
  ),
) as { readonly [K in KindId]: KindEntry };

/** The registry entry for a kind id; a clear error when state names a kind this version lacks. */
export function kindEntry(id: string): KindEntry {
  const e = Object.prototype.hasOwnProperty.call(KINDS, id) ? KINDS[id as KindId] : undefined;
  if (!e) {
    throw new Error(`kvmshare: this version has no host kind '${id}' (known: ${KIND_IDS.join(", ")}); the state was written by another kvmshare version: install that version, or the one that replaced the kind`);
  }
  return e;
}
