// kvmshare: re-exports only.
export * as core from "./core";
export * from "./components/files";
