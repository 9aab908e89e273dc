// Protection: snapshot policies (kvmshare's own or sanoid), replication (kvmshare's own or
// syncoid), the backup window, the restore drill. Built on the storage area's public index.
export * from "./zfsSnapshotPolicy";
export * from "./zfsSnapshotPolicyArgs";
export type { ZfsSnapshotPolicyState } from "./zfsSnapshotPolicyKind";
export { POLICY_PROPERTY } from "./zfsSnapshotPolicyKind";
export * from "./zfsReplication";
export * from "./zfsReplicationArgs";
export type { ZfsReplicationState, ReplicationPlan } from "./zfsReplicationKind";
export { planReplication, REPLICATION_PROPERTY } from "./zfsReplicationKind";
export { pipeCommands } from "./zfsStream";
export type { PipeResult } from "./zfsStream";
export * from "./backupWindow";
export * from "./restoreDrill";
export * from "./restoreDrillArgs";
export type { ZfsRestoreDrillState } from "./restoreDrillKind";
export type { DrillResult, DrillOptions } from "./restoreDrillEngine";
export { runRestoreDrill } from "./restoreDrillEngine";
export type { SanoidPolicyState } from "./sanoidPolicyKind";
export type { SyncoidReplicationState } from "./syncoidReplicationKind";
