export * from "./nfsExport";
export type { NfsAccess, NfsBackend, NfsClient, NfsClientOptions, NfsSec, NfsSquash, NfsExportSpec } from "./nfsSpec";
export type { NfsGaneshaArgs, NfsKernelArgs } from "./nfsValidate";
export { validateNfsExportArgs, validateNfsExport, resolveNfsExport } from "./nfsValidate";
export { allowedSourcesOf, allowedHostNamesOf } from "./clients";
