export * from "./nfsExport";
export * from "./kernelNfsServer";
export type { NfsExportArgs, NfsAccess, NfsBackend, NfsClient, NfsClientOptions, NfsSec, NfsSquash, NfsExportSpec, NfsGaneshaArgs, NfsKernelArgs } from "./nfsExportArgs";
export { validateNfsExportArgs, validateNfsExport, resolveNfsExport } from "./nfsExportArgs";
export type { KernelNfsServerArgs } from "./kernelNfsServerArgs";
