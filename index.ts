// kvmshare: re-exports only.
export * as core from "./core";
export * from "./components/files";
export * from "./components/storage";
export * from "./components/protection";
export * from "./components/nfs";
export * from "./components/smb";
export * from "./components/kerberos";
export { allowedSourcesOf, allowedHostNamesOf } from "./core/clients";
export * from "./components/network";
export * from "./components/firewall";
export * from "./components/guest";
export * from "./components/host";
export * from "./components/share";
export * from "./components/perf";
export * from "./components/transfer";
export * from "./components/vault";
export * as transfer from "./transfer";
export * as perf from "./perf";
