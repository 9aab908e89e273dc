export * from "./parallelTransfer";
export type { ParallelTransferSpec, ParallelTransferState, TransferRun } from "./parallelTransferKind";
export { validateTransferSpec, CHANGE_DETECTION } from "./parallelTransferKind";
export type { ChangeDetection } from "./fingerprint";
