export * from "./guestMount";
export type { GuestMountSpec, NfsMountSpec, SmbMountSpec, VirtioFsMountSpec, NinePMountSpec, MountStyle, Activation } from "./mountSpec";
export { validateGuestMount } from "./mountSpec";
export { escapePath, mountUnitName } from "./systemdEscape";
export type { GuestMountState } from "./guestMountKind";
