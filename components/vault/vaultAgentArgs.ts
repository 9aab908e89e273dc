/**
 * VaultAgent: Vault Agent on a host, as declared state. The args (declared once, documented), the
 * defaults, the resolved spec the kind gets, and the validation (pure: runs in the constructor and
 * in the provider's check, secrets included there).
 */
import type * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import type { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { samePathProblems } from "../../core/writePaths";
import { Checker, isUnknown, LINE_BREAKING, parseMode, SecretRules } from "../../core/validate";

/** One file the agent renders from Vault (a certificate, its key, the CA) and what reloads its consumer. */
export interface VaultAgentTemplate {
  /**
   * The template text (Vault Agent's Consul Template language), e.g.
   * `{{ with pkiCert "pki/issue/nfs" "common_name=nfs.example.org" }}{{ .Cert }}{{ end }}`.
   * Exactly one of `contents` and `source`. Written into the agent's config as an escaped HCL string.
   * @default unset: `source` names a template file
   * @fieldKind free opaque
   */
  contents?: string;
  /** A template file on the host. Exactly one of `contents` and `source`. @default unset: `contents` holds the template @fieldKind path read */
  source?: string;
  /** Where the agent writes the rendered file. @fieldKind path file */
  destination: string;
  /** The rendered file's mode; a key's may not be readable by others. @default "0600" when the destination's file name contains "key", else "0644" @fieldKind free */
  perms?: string;
  /** argv the agent runs after it rendered a new file (reload the consumer), e.g. `["systemctl", "restart", "tlshd"]`. @default unset: nothing is run @fieldKind free argv */
  command?: string[];
}

export interface VaultAgentArgs {
  /** The host. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The instance's name: its unit is `kvmshare-vault-agent-<name>.service`. @default the component's name @fieldKind name */
  name?: string;
  /** Vault's address, `https://host[:port]` (no path). @fieldKind free */
  vaultAddress: string;
  /** PEM of the CA that signed Vault's certificate (written to `<configDir>/vault-ca.pem`). @default unset: the host's trusted CAs @fieldKind free */
  caCertificate?: pulumi.Input<string>;
  /** The AppRole's role_id (a `pulumi.secret` is best; written 0600, compared by hash, never kept in state). @fieldKind free secret */
  roleId: pulumi.Input<string>;
  /** The AppRole's secret_id (a `pulumi.secret`; written 0600, compared by hash, never kept in state). @fieldKind free secret */
  secretId: pulumi.Input<string>;
  /** The agent's directory: agent.hcl, role-id, secret-id, vault-ca.pem. @default "/etc/kvmshare/vault-agent/<name>" @fieldKind path dir */
  configDir?: string;
  /** Where the unit `kvmshare-vault-agent-<name>.service` is written. @default "/etc/systemd/system" @fieldKind path unitDir */
  unitDir?: string;
  /** The Vault binary (1.14 or later) the unit runs as `<vaultBinary> agent -config=<configDir>/agent.hcl`. @default "/usr/local/bin/vault" @fieldKind path toolRead */
  vaultBinary?: string;
  /** The files to render. */
  templates: VaultAgentTemplate[];
  /**
   * Keep the unit enabled and running (a `HostService`, restarted when the config changes; needs
   * systemd as PID 1). `false`: only the files are written and the unit installed.
   * @default true
   */
  service?: boolean;
}

type AgentDefaults = "configDir" | "unitDir" | "vaultBinary" | "service";

/** What the kind gets: defaults filled, each template's `perms` resolved; no secret, no connection. */
export type VaultAgentSpec = Resolved<Pick<VaultAgentArgs, AgentDefaults>> & {
  name: string;
  vaultAddress: string;
  /** The CA's PEM, or "" for none. */
  caCertificate: string;
  templates: (VaultAgentTemplate & { perms: string })[];
};

const DEFAULTS: Omit<Defaults<Pick<VaultAgentArgs, AgentDefaults>>, "configDir"> = {
  unitDir: "/etc/systemd/system",
  vaultBinary: "/usr/local/bin/vault",
  service: true,
};

/** A key file's default mode is 0600; anything else's 0644. */
export const defaultPerms = (destination: unknown): string => (typeof destination === "string" && /key/i.test(path.posix.basename(destination)) ? "0600" : "0644");

export function resolveVaultAgent(
  resourceName: string,
  a: Omit<VaultAgentArgs, "connection" | "roleId" | "secretId" | "caCertificate"> & { caCertificate?: string },
): VaultAgentSpec {
  const name = a.name ?? resourceName;
  const templates = (Array.isArray(a.templates) ? a.templates : []).map((t) => ({ ...t, perms: t?.perms ?? defaultPerms(t?.destination) }));
  const d = resolveDefaults({ configDir: a.configDir, unitDir: a.unitDir, vaultBinary: a.vaultBinary, service: a.service }, { ...DEFAULTS, configDir: `/etc/kvmshare/vault-agent/${name}` });
  return { name, vaultAddress: a.vaultAddress, caCertificate: a.caCertificate ?? "", templates, ...d };
}

/** The files the agent's directory and the unit directory hold. */
export const vaultAgentPaths = (s: VaultAgentSpec) => ({
  config: path.posix.join(s.configDir, "agent.hcl"),
  roleId: path.posix.join(s.configDir, "role-id"),
  secretId: path.posix.join(s.configDir, "secret-id"),
  ca: path.posix.join(s.configDir, "vault-ca.pem"),
  pid: path.posix.join(s.configDir, "agent.pid"),
  unit: path.posix.join(s.unitDir, vaultAgentUnit(s)),
});

export const vaultAgentUnit = (s: { name: string }) => `kvmshare-vault-agent-${s.name}.service`;

/** AppRole ids: Vault makes UUIDs; custom ones are printable text on one line. */
const APPROLE_RULES: SecretRules = { maxBytes: 1024, why: "Vault Agent reads the whole file as the id" };
const ADDRESS = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$|^https:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?\/?$/;
const PEM_CERTS = /^(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/;
/** Characters systemd and the agent's config would read as syntax in a path (it is written unquoted in the unit). */
const UNIT_SYNTAX = /[\s"'\\$;{}#=%]/;
const MAX_TEMPLATE = 64 * 1024;

export function validateVaultAgent(s: VaultAgentSpec, secrets?: Record<string, unknown>): Problem[] {
  const c = new Checker("VaultAgent");
  c.name("name", s.name, 64);
  if (typeof s.vaultAddress !== "string" || !ADDRESS.test(s.vaultAddress)) {
    if (!isUnknown(s.vaultAddress)) c.add("vaultAddress", s.vaultAddress, "must be Vault's https URL with no path, e.g. 'https://vault.example.org:8200' (the agent sends its AppRole credentials there: plain http is refused)");
  }
  if (s.caCertificate !== "" && !isUnknown(s.caCertificate) && (typeof s.caCertificate !== "string" || !PEM_CERTS.test(s.caCertificate))) {
    c.add("caCertificate", s.caCertificate, "must be PEM certificate text ('-----BEGIN CERTIFICATE-----' ... '-----END CERTIFICATE-----'), e.g. from 'vault read -field=certificate pki/cert/ca', or be left out to use the host's trusted CAs");
  }
  c.absPath("configDir", s.configDir, "dir");
  c.absPath("unitDir", s.unitDir, "unitDir");
  c.absPath("vaultBinary", s.vaultBinary, "toolRead");
  for (const f of ["configDir", "unitDir"] as const) {
    if (typeof s[f] === "string" && UNIT_SYNTAX.test(s[f])) c.add(f, s[f], "must not contain spaces, quotes, '$', '%', ';', '=', braces or '#' (the unit names it unquoted)");
  }
  if (typeof s.service !== "boolean") c.add("service", s.service, "must be true or false");
  if (!Array.isArray(s.templates) || !s.templates.length) c.add("templates", s.templates, "must list at least one template ({ contents, destination }), e.g. the certificate from pkiCert");
  else s.templates.forEach((t, i) => templateProblems(c, `templates[${i}]`, t));
  if (Array.isArray(s.templates)) {
    const own = typeof s.configDir === "string" && typeof s.unitDir === "string" ? Object.values(vaultAgentPaths(s)) : [];
    s.templates.forEach((t, i) => {
      if (own.includes(t?.destination)) c.add(`templates[${i}].destination`, t.destination, "is one of the agent's own files (its config, AppRole ids, CA, pid file or unit); write the rendered file elsewhere");
    });
    c.problems.push(...samePathProblems(Object.fromEntries(s.templates.map((t, i) => [`templates[${i}].destination`, t?.destination]))));
  }
  if (secrets !== undefined) {
    for (const f of ["roleId", "secretId"] as const) {
      if (secrets[f] === undefined) c.add(f, undefined, `is required (a pulumi.secret; e.g. from 'vault read auth/approle/role/<role>/role-id' or 'vault write -f auth/approle/role/<role>/secret-id')`);
      else c.secret(f, secrets[f], APPROLE_RULES);
    }
  }
  return c.problems;
}

function templateProblems(c: Checker, at: string, t: VaultAgentTemplate & { perms: string }): void {
  if (!t || typeof t !== "object") {
    c.add(at, t, "must be { contents or source, destination, perms?, command? }");
    return;
  }
  if ((t.contents === undefined) === (t.source === undefined)) c.add(`${at}.contents|source`, { contents: t.contents, source: t.source }, "set exactly one of contents (the template text) and source (a template file on the host)");
  if (t.contents !== undefined && !isUnknown(t.contents)) {
    if (typeof t.contents !== "string" || t.contents === "") c.add(`${at}.contents`, t.contents, "must be the template text, e.g. '{{ with pkiCert \"pki/issue/nfs\" \"common_name=nfs.example.org\" }}{{ .Cert }}{{ end }}'");
    else if (t.contents.includes("\0")) c.add(`${at}.contents`, t.contents, "must not contain NUL");
    else if (Buffer.byteLength(t.contents) > MAX_TEMPLATE) c.add(`${at}.contents`, t.contents, `is longer than ${MAX_TEMPLATE} bytes; keep a large template in a file and name it with source`);
  }
  if (t.source !== undefined) c.absPath(`${at}.source`, t.source, "read");
  c.required(`${at}.destination`, t.destination).absPath(`${at}.destination`, t.destination);
  c.mode(`${at}.perms`, t.perms);
  const mode = typeof t.perms === "string" ? parseMode(t.perms) : undefined;
  if (mode !== undefined && (mode & 0o007) !== 0 && defaultPerms(t.destination) === "0600") {
    c.add(`${at}.perms`, t.perms, `lets every user of the host read or change ${JSON.stringify(t.destination)}, a private key; use '0600' (or '0640' with a group)`);
  }
  if (typeof t.perms === "string" && LINE_BREAKING.test(t.perms)) c.add(`${at}.perms`, t.perms, "must not contain control characters");
  if (t.command !== undefined) c.argv(`${at}.command`, t.command, "['systemctl', 'restart', 'tlshd']");
}
