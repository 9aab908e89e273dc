/**
 * The ids of kvmshare's host kinds: the name a component gives its `HostResource` (and its
 * resource type, `kvmshare:<id>`), and the name the provider serialized into state loads the kind
 * by. Declared here, at the bottom of the house, as names only; the registry that maps each id to
 * its module is `provider/kinds.ts`, above the areas, and must name every id here (a missing or
 * misspelled id does not compile). An id, once released, stays for as long as state may name it.
 */
export const KIND_IDS = [
  "ManagedFile",
  "ZfsPool",
  "ZfsDataset",
  "ZfsSnapshotPolicy",
  "ZfsReplication",
  "SanoidPolicy",
  "SyncoidReplication",
  "ZfsRestoreDrill",
  "NfsExport",
  "KernelNfsServer",
  "SambaServer",
  "SmbShare",
  "SmbUser",
  "SysctlProfile",
  "LinkMtu",
  "TcShaping",
  "EthtoolSettings",
  "ShareFirewall",
  "GuestMount",
  "VirtioFsPassthrough",
  "ParallelTransfer",
  "HostPackages",
  "HostService",
  "GuestMountHealth",
  "KerberosRealm",
  "KerberosClient",
  "KerberosKeytab",
  "KerberosOtpUser",
  "OtpRadius",
  "SharePerformanceCheck",
  "Tlshd",
] as const;

/** A host kind's id. */
export type KindId = (typeof KIND_IDS)[number];
