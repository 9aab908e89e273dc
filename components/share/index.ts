export * from "./hostGuestShare";
export type { HostGuestShareArgs, ShareProtocol, ShareGuestArgs, ShareNfsArgs, ShareSmbArgs, ShareVirtioFsArgs } from "./hostGuestShareArgs";
export { validateHostGuestShare, SHARE_DEFAULTS } from "./hostGuestShareArgs";
