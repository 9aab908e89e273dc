// HashiCorp Vault: secrets from its KV store into components (docs/vault.md).
export { readVaultField, resolveVaultConnection, vaultRequest, vaultSecret } from "./vaultSecret";
export type { VaultConnection, VaultResponse, VaultSecretOptions } from "./vaultSecret";
