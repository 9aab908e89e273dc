export * from "./managedFile";
export type { ManagedFileSpec } from "./managedFileArgs";
export { validateManagedFile, MANAGED_FILE_DEFAULTS } from "./managedFileArgs";
export type { ManagedFileState } from "./managedFileKind";
export { writeCheckedFile } from "./managedFileKind";
export { probeFile } from "../../core/configFile";
