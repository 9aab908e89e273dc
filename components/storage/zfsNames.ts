/**
 * ZFS names shared by the storage components: dataset names (`pool/path`), snapshot name
 * prefixes and the UTC time stamp kvmshare's snapshots carry.
 */
import { Problem } from "../../core/errors";
import { isUnknown } from "../../core/validate";

export function validateDatasetName(name: unknown, field = "name"): Problem[] {
  if (isUnknown(name)) return [];
  if (typeof name !== "string" || !/^[A-Za-z][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)+$/.test(name) || name.length > 255) {
    return [{ field, value: name, message: "must be 'pool/dataset[/child...]' of letters, digits, '_', '.', ':', '-' (at most 255 characters; no '@' or '#')" }];
  }
  if (name.split("/").some((part) => part === "." || part === "..")) {
    return [{ field, value: name, message: "has a '.' or '..' component, which would name another dataset (or a directory outside the pool's mountpoint); use plain names such as 'tank/share'" }];
  }
  return [];
}

/** A snapshot name prefix (the part before `-<UTC time>`); undefined is fine (the default). */
export function validateSnapshotPrefix(prefix: unknown, field: string): Problem[] {
  if (prefix !== undefined && (typeof prefix !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,100}$/.test(prefix))) {
    return [{ field, value: prefix, message: "must be letters, digits, '_', '.', ':', '-' (at most 100)" }];
  }
  return [];
}

/** The full name of a dataset given as a `ZfsDataset` component or as its name. */
export function datasetNameOf(d: string | { datasetName: string }): string {
  return typeof d === "string" ? d : d.datasetName;
}

/** `20260101T120000Z`: the time part of a snapshot name. */
export function snapshotStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}
