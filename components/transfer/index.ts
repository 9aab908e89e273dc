export * from "./parallelTransfer";
export * from "./parallelTransferArgs";
export type { ParallelTransferState, TransferRun } from "./parallelTransferKind";
export type { ChangeDetection } from "./fingerprint";
