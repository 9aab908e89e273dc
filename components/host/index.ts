export * from "./distroPackages";
export * from "./hostPackages";
export * from "./hostService";
export type { HostPackagesState } from "./hostPackagesKind";
export type { HostServiceState } from "./hostServiceKind";
export { afterSetup, hostSetupFor, hostServicesFor, hostSetupOn } from "./hostSetup";
export type { HostSetupArgs, HostSetupOptions, HostSetup, HostSetupPlan } from "./hostSetup";
export { HostComponent } from "./hostComponent";
export type { OwnResource, OwnResourceArgs } from "./hostComponent";
