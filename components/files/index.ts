export * from "./managedFile";
export { ManagedFileSpec, ManagedFileState, validateManagedFile, probeFile, writeCheckedFile } from "./managedFileKind";
