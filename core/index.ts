export * from "./connection";
export * from "./errors";
export * from "./shell";
export * from "./render";
export * from "./validate";
export * from "./hostKind";
export * from "./hostResource";
export * from "./args";
