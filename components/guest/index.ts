export * from "./guestMount";
export type { GuestMountSpec, NfsMountSpec, SmbMountSpec, VirtioFsMountSpec, NinePMountSpec, MountStyle, Activation } from "./mountSpec";
export { validateGuestMount } from "./mountSpec";
export { escapePath, mountUnitName } from "./systemdEscape";
export type { GuestMountState } from "./guestMountKind";
export * from "./virtioFsPassthrough";
export type { PassthroughSpec, SharedFilesystemSpec, VcpuPin, NumaTune } from "./passthroughSpec";
export { validatePassthrough } from "./passthroughSpec";
export type { PassthroughState } from "./domainEdit";
