export * from "./sharePerformanceCheck";
export type {
  SharePerformanceCheckArgs,
  SharePerformanceLossArgs,
  SharePerformanceCheckSpec,
  ResolvedSharePerformanceCheck,
  OnMiss,
} from "./sharePerformanceCheckArgs";
export {
  SHARE_PERFORMANCE_CHECK_DEFAULTS,
  ON_MISS,
  resolveSharePerformanceCheck,
  validateSharePerformanceCheck,
  validateCheckSpec,
} from "./sharePerformanceCheckArgs";
export type { SharePerformanceCheckState } from "./sharePerformanceCheckKind";
export { checkRunKey } from "./sharePerformanceCheckKind";
