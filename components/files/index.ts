export * from "./managedFile";
export type { ManagedFileSpec, ManagedFileState } from "./managedFileKind";
export { validateManagedFile, probeFile, writeCheckedFile } from "./managedFileKind";
