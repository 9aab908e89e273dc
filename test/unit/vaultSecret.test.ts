/**
 * vaultSecret's refusals before anything is asked of Vault: a hostile or malformed mount, path or
 * field, and a missing address or token, each named with its value (escaped) and the fix. The
 * reads themselves run against a real Vault in test/integration/vault-secrets.test.ts.
 */
import { readVaultField, resolveVaultConnection } from "../../components/vault";

describe("vaultSecret refuses bad names and a missing connection before any request", () => {
  const conn = { address: "https://127.0.0.1:1", token: "t" };

  it.each([
    ["path", "../sys/seal", "f", undefined],
    ["path", "a//b", "f", undefined],
    ["path", "a/b\nX-Injected: 1", "f", undefined],
    ["path", "", "f", undefined],
    ["field", "kvmshare/smb", "pass/word", undefined],
    ["field", "kvmshare/smb", "..", undefined],
    ["mount", "kvmshare/smb", "f", "secret?x=1"],
  ])("%s: %j / %j (mount %j) is refused, naming the value", async (what, p, f, mount) => {
    const bad = what === "path" ? p : what === "field" ? f : mount;
    await expect(readVaultField(p, f, { ...conn, mount })).rejects.toThrow(`vaultSecret: ${what} ${JSON.stringify(bad).replace(/\n/g, "\\n")}`);
  });

  it("a line break in a value is escaped in the message", async () => {
    await expect(readVaultField("a\nb", "f", conn)).rejects.toThrow(/"a\\nb"/);
  });

  it("no address / no token / an address with a path: each says what to set", () => {
    const saved = { a: process.env.VAULT_ADDR, t: process.env.VAULT_TOKEN };
    delete process.env.VAULT_ADDR;
    delete process.env.VAULT_TOKEN;
    try {
      expect(() => resolveVaultConnection({ token: "t" })).toThrow(/no address: set VAULT_ADDR/);
      expect(() => resolveVaultConnection({ address: "https://v:8200" })).toThrow(/no token: set VAULT_TOKEN/);
      expect(() => resolveVaultConnection({ address: "https://v:8200/v1/x", token: "t" })).toThrow(/"https:\/\/v:8200\/v1\/x" must be http\(s\):\/\/host\[:port\]/);
      process.env.VAULT_ADDR = "https://v:8200/";
      process.env.VAULT_TOKEN = "tok";
      expect(resolveVaultConnection({})).toMatchObject({ address: "https://v:8200", token: "tok", timeoutMs: 10_000 });
    } finally {
      for (const [k, v] of [["VAULT_ADDR", saved.a], ["VAULT_TOKEN", saved.t]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it("an unreachable Vault is named by its address", async () => {
    await expect(readVaultField("kvmshare/smb", "password", { address: "http://127.0.0.1:1", token: "t" })).rejects.toThrow(/cannot reach Vault at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });
});
