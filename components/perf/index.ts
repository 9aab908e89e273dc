export * from "./sharePerformanceCheck";
export type { SharePerformanceCheckSpec, SharePerformanceCheckState, OnMiss } from "./sharePerformanceCheckKind";
export { validateCheckSpec, checkRunKey, ON_MISS } from "./sharePerformanceCheckKind";
