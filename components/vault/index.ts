// HashiCorp Vault: secrets from its KV store into components, and Vault Agent on hosts (docs/vault.md).
export { readVaultField, resolveVaultConnection, vaultRequest, vaultSecret } from "./vaultSecret";
export type { VaultConnection, VaultResponse, VaultSecretOptions } from "./vaultSecret";
export * from "./vaultAgent";
export { validateVaultAgent, resolveVaultAgent, vaultAgentPaths } from "./vaultAgentArgs";
export type { VaultAgentSpec } from "./vaultAgentArgs";
export type { VaultAgentState } from "./vaultAgentKind";
export { vaultAgentArgv } from "./vaultAgentKind";
