export * from "./nfsExport";
export * from "./kernelNfsServer";
export type { NfsAccess, NfsBackend, NfsClient, NfsClientOptions, NfsSec, NfsSquash, NfsExportSpec } from "./nfsSpec";
export type { NfsGaneshaArgs, NfsKernelArgs } from "./nfsExportArgs";
export { validateNfsExportArgs, validateNfsExport, resolveNfsExport } from "./nfsExportArgs";
