export * from "./sambaServer";
export * from "./smbShare";
export * from "./smbUser";
export type { SambaServerSpec, SmbShareSpec, SmbUserSpec, SmbMinProtocol } from "./smbSpec";
export { HARDENING as SAMBA_HARDENING } from "./smbSpec";
export { validateSambaServer, validateSmbShare, validateSmbUser, resolveSambaServer, resolveSmbShare } from "./smbValidate";
