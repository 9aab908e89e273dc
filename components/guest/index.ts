export * from "./guestMount";
export type {
  GuestMountSpec,
  NfsMountArgs,
  MountSource,
  SmbMountArgs,
  VirtioFsMountArgs,
  NinePMountArgs,
  MountStyle,
  Activation,
} from "./guestMountArgs";
export { validateGuestMount } from "./guestMountArgs";
export { escapePath, mountUnitName } from "./systemdEscape";
export type { GuestMountState } from "./guestMountKind";
export * from "./virtioFsPassthrough";
export type { PassthroughSpec, SharedFilesystemArgs, VcpuPin, NumaTune } from "./virtioFsPassthroughArgs";
export { validatePassthrough } from "./virtioFsPassthroughArgs";
export type { PassthroughState } from "./domainEdit";
