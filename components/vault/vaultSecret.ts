/**
 * Secrets from HashiCorp Vault's KV store into kvmshare components, read at each preview and up
 * through Vault's HTTP API (no Vault provider plugin: none is obtainable here, see docs/vault.md).
 *
 *   new SmbUser("alice", { server, password: vaultSecret("kvmshare/smb", "password") });
 *
 * Why a helper rather than `vault kv get ... | pulumi config set --secret`: the value stays in one
 * place (Vault) and a rotation there reaches the host at the next `pulumi up`; a copy in stack
 * config goes stale. The value is a Pulumi secret from the moment it is read: it travels to the
 * provider as a secret, is stored only as ciphertext, and no message names it.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as pulumi from "@pulumi/pulumi";
import { escapeControl } from "../../core/errors";

/** Where Vault is and who asks: each defaults to the variable the `vault` CLI reads. */
export interface VaultConnection {
  /** Vault's address (`https://host:8200`). @default $VAULT_ADDR */
  address?: string;
  /** The token sent in `X-Vault-Token`. @default $VAULT_TOKEN */
  token?: string;
  /** PEM file of the CA that signed Vault's certificate. @default $VAULT_CACERT, else the system's CAs */
  caCertFile?: string;
  /** Give up on a request after this long. @default 10000 */
  timeoutMs?: number;
}

export interface VaultSecretOptions extends VaultConnection {
  /** Path where the KV engine is mounted. @default "secret" */
  mount?: string;
  /** KV engine version (2: versioned, `vault kv put`'s default; 1: plain). @default 2 */
  kvVersion?: 1 | 2;
}

export interface VaultResponse {
  status: number;
  body: Record<string, unknown>;
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? undefined : v;
}

/** The connection with the environment's defaults filled in, or an error naming what is missing. */
export function resolveVaultConnection(c: VaultConnection = {}): Required<Omit<VaultConnection, "caCertFile">> & { caCertFile?: string } {
  const address = c.address ?? env("VAULT_ADDR");
  const token = c.token ?? env("VAULT_TOKEN");
  if (!address) throw new Error("vault: no address: set VAULT_ADDR (e.g. https://127.0.0.1:8200) or pass `address`");
  if (!/^https?:\/\/[^/\s]+\/?$/.test(address)) throw new Error(`vault: address ${escapeControl(JSON.stringify(address))} must be http(s)://host[:port] with no path`);
  if (!token) throw new Error("vault: no token: set VAULT_TOKEN (e.g. from `vault login`) or pass `token`");
  return { address: address.replace(/\/$/, ""), token, caCertFile: c.caCertFile ?? env("VAULT_CACERT"), timeoutMs: c.timeoutMs ?? 10_000 };
}

/**
 * One request to Vault's HTTP API (`apiPath` below `/v1/`). Resolves with any HTTP status;
 * rejects, naming the address, when Vault cannot be reached.
 */
export function vaultRequest(c: VaultConnection, method: string, apiPath: string, payload?: unknown): Promise<VaultResponse> {
  const r = resolveVaultConnection(c);
  const url = new URL(`${r.address}/v1/${apiPath}`);
  const data = payload === undefined ? undefined : JSON.stringify(payload);
  const opts: https.RequestOptions = {
    method,
    headers: { "X-Vault-Token": r.token, ...(data ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } : {}) },
    timeout: r.timeoutMs,
  };
  if (r.caCertFile) opts.ca = fs.readFileSync(r.caCertFile);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === "https:" ? https : http).request(url, opts, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = { errors: [`not JSON (${text.length} bytes)`] };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${r.timeoutMs} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) => reject(new Error(`vault: cannot reach Vault at ${r.address} (${e.code ?? e.message}): is it running, and is VAULT_ADDR right?`)));
    req.end(data);
  });
}

/** Vault's own error strings on one line (they never carry secret values). */
const vaultErrors = (b: Record<string, unknown>) =>
  Array.isArray(b.errors) ? escapeControl(b.errors.map((e) => String(e).replace(/\d+ errors? occurred:|^\s*\* /gm, "").replace(/\s+/g, " ").trim()).join("; ")) : "";

const SEGMENT = /^[A-Za-z0-9_.@=+-]+$/;

/** Problems with a KV path or field, before anything is asked of Vault. */
function checkName(what: string, v: unknown, multi: boolean): void {
  const parts = typeof v === "string" ? (multi ? v.split("/") : [v]) : [];
  if (!parts.length || parts.some((p) => !SEGMENT.test(p) || p === "." || p === "..")) {
    throw new Error(
      `vaultSecret: ${what} ${escapeControl(JSON.stringify(v))} must be ${multi ? "'/'-separated segments" : "one name"} of letters, digits and '_.@=+-' (no '.' or '..' segment), as \`vault kv put\` names it`,
    );
  }
}

/** Read `field` of the KV secret at `secretPath` (resolves to the plain value: wrap it as a secret). */
export async function readVaultField(secretPath: string, field: string, o: VaultSecretOptions = {}): Promise<string> {
  const mount = o.mount ?? "secret";
  checkName("mount", mount, true);
  checkName("path", secretPath, true);
  checkName("field", field, false);
  const v2 = (o.kvVersion ?? 2) === 2;
  const where = `${mount}/${secretPath}`;
  const res = await vaultRequest(o, "GET", v2 ? `${mount}/data/${secretPath}` : where);
  const why = vaultErrors(res.body);
  if (res.status === 503) throw new Error(`vaultSecret(${JSON.stringify(where)}): Vault answers 503 (${why || "unavailable"}): unseal it (\`vault operator unseal\`) and run again`);
  if (res.status === 403) throw new Error(`vaultSecret(${JSON.stringify(where)}): Vault answers 403 (${why}): the token needs a policy with "read" on ${v2 ? `${mount}/data/${secretPath}` : where}`);
  if (res.status === 404) throw new Error(`vaultSecret(${JSON.stringify(where)}): no secret there${v2 ? "" : " (KV version 1)"}: write it with \`vault kv put ${where} ${field}=-\`, or check mount, path and kvVersion`);
  if (res.status !== 200) throw new Error(`vaultSecret(${JSON.stringify(where)}): Vault answered ${res.status} (${why})`);
  const outer = res.body.data as Record<string, unknown> | undefined;
  const fields = (v2 ? (outer?.data as Record<string, unknown> | undefined) : outer) ?? {};
  const value = fields[field];
  if (typeof value !== "string") {
    // Names only, never values.
    const have = Object.keys(fields).map((k) => JSON.stringify(k)).join(", ") || "none";
    throw new Error(`vaultSecret(${JSON.stringify(where)}): field ${escapeControl(JSON.stringify(field))} ${value === undefined ? "is not there" : "is not a string"} (fields: ${escapeControl(have)})`);
  }
  return value;
}

/**
 * `field` of the KV secret at `secretPath`, as a Pulumi secret: pass it wherever a component
 * takes a `pulumi.secret` (SmbUser.password, OtpRadius.radiusSecret, KerberosRealm.masterKey...).
 * Read when the program runs (preview and up), so a sealed or unreachable Vault stops the
 * preview with a message before anything on a host changes.
 */
export function vaultSecret(secretPath: string, field: string, opts: VaultSecretOptions = {}): pulumi.Output<string> {
  return pulumi.secret(readVaultField(secretPath, field, opts));
}
