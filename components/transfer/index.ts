export * from "./parallelTransfer";
export type { ParallelTransferArgs, ParallelTransferSpec, ResolvedParallelTransfer } from "./parallelTransferArgs";
export {
  PARALLEL_TRANSFER_DEFAULTS,
  CHANGE_DETECTION,
  parallelTransferSpec,
  resolveParallelTransfer,
  validateParallelTransfer,
  validateTransferSpec,
} from "./parallelTransferArgs";
export type { ParallelTransferState, TransferRun } from "./parallelTransferKind";
export type { ChangeDetection } from "./fingerprint";
