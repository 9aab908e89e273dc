// Storage: pools, datasets, their properties and ACLs, what the host's ZFS can do, capacity.
export * from "./zfsPool";
export * from "./zfsPoolArgs";
export type { ZfsPoolState } from "./zfsPoolKind";
export * from "./zfsDataset";
export * from "./zfsDatasetArgs";
export type { ZfsDatasetState } from "./zfsDatasetKind";
export * from "./capacity";
export type { PropertyRule, ZfsDatasetProperties, ZfsPropertyName, ZfsUserProperties } from "./zfsProps";
export { PROPERTY_RULES, propertyRule, validateProperties } from "./zfsProps";
export type { ZfsInfo, ZfsFeatures } from "./zfsFeatures";
export { FEATURE_INFO, detectZfs, classifyZfs, describeZfs, unmet } from "./zfsFeatures";
// The ZFS command line and names, for the protection area (snapshots, replication, drills).
export type { SnapshotInfo } from "./zfsCli";
export { datasetExists, listSnapshots, runZfs, zfsGet } from "./zfsCli";
export { datasetNameOf, snapshotStamp, validateDatasetName, validateSnapshotPrefix } from "./zfsNames";
