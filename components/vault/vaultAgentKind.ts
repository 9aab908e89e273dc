/**
 * Kind: Vault Agent on a host. Its config (agent.hcl), the CA it trusts and its systemd unit are
 * plain config files (state keeps them, drift names them); the AppRole's role-id and secret-id
 * files are 0600 and only compared in memory with the declared secrets (state keeps
 * `roleIdCurrent`/`secretIdCurrent`, never their content). The unit is checked by
 * `systemd-analyze verify` before it is written. The rendered certificates are the agent's: it
 * renews them and runs each template's command with nobody running kvmshare.
 */
import { Host } from "../../core/connection";
import { changedFiles, compareConfigFile, ConfigFileState, probeFiles, sameSecret, writeFiles } from "../../core/configFile";
import { HostKind } from "../../core/hostKind";
import { render } from "../../core/render";
import { verifyUnits } from "../../core/systemdUnits";
import { LINE_BREAKING } from "../../core/validate";
import { VaultAgentSpec, vaultAgentPaths, vaultAgentUnit, validateVaultAgent } from "./vaultAgentArgs";

/** The agent's own config files, by role (drift names `files.config.content`, `files.unit.mode`). */
export type AgentFile = "config" | "unit" | "ca";

export type VaultAgentState = {
  files: Partial<Record<AgentFile, ConfigFileState | null>>;
  /** The role-id file holds the declared role_id (`null`: not known at preview). */
  roleIdCurrent: boolean | null;
  /** The secret-id file holds the declared secret_id (`null`: not known at preview). */
  secretIdCurrent: boolean | null;
};

/** The oldest Vault whose agent takes a template's `exec` block. */
export const MIN_VAULT = [1, 14, 0];

const ESCAPE_MORE = new RegExp(LINE_BREAKING.source, "g");

/**
 * A value as an HCL string literal: JSON's quoting and escapes (HCL reads the same ones), every
 * control and bidirectional character as `\uNNNN`, and HCL's own template sequences `${` and
 * `%{` doubled, so the agent's config parser takes the value as text, never as syntax.
 */
export function hclString(v: string): string {
  return JSON.stringify(v)
    .replace(ESCAPE_MORE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/([$%])\{/g, (_m, sigil: string) => `${sigil}${sigil}{`);
}

/** The agent's config, its CA and its unit: content and mode by role. */
export function renderVaultAgent(s: VaultAgentSpec): Partial<Record<AgentFile, ConfigFileState>> {
  const p = vaultAgentPaths(s);
  const vault = [{ key: "address", value: hclString(s.vaultAddress) }];
  if (s.caCertificate) vault.push({ key: "ca_cert", value: hclString(p.ca) });
  const templates = s.templates.map((t) => ({
    sourceKey: t.contents !== undefined ? "contents" : "source",
    source: hclString(t.contents ?? t.source ?? ""),
    destination: hclString(t.destination),
    perms: hclString(t.perms),
    exec: t.command ? [`[${t.command.map(hclString).join(", ")}]`] : [],
  }));
  const view = { name: s.name, pidFile: hclString(p.pid), roleIdFile: hclString(p.roleId), secretIdFile: hclString(p.secretId), vault, templates };
  const files: Partial<Record<AgentFile, ConfigFileState>> = {
    config: { content: render("vault-agent.hcl.hbs", view), mode: "0644" },
    unit: { content: render("kvmshare-vault-agent.service.hbs", { name: s.name, vaultBinary: s.vaultBinary, configPath: p.config }), mode: "0644" },
  };
  if (s.caCertificate) files.ca = { content: s.caCertificate.endsWith("\n") ? s.caCertificate : `${s.caCertificate}\n`, mode: "0644" };
  return files;
}

/** The argv the unit runs (`ExecStart=`): what a host without systemd as PID 1 runs itself. */
export const vaultAgentArgv = (s: VaultAgentSpec): string[] => [s.vaultBinary, "agent", `-config=${vaultAgentPaths(s).config}`];

/** "Vault v1.21.0, built ..." -> [1, 21, 0]. */
export function parseVaultVersion(text: string): number[] | undefined {
  const m = /\bVault v(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Role-keyed files as the path-keyed file helpers take them. */
function byPath(s: VaultAgentSpec, files: Partial<Record<AgentFile, ConfigFileState | null>> | undefined): Record<string, ConfigFileState | null> {
  const p = vaultAgentPaths(s);
  return Object.fromEntries(Object.entries(files ?? {}).map(([role, f]) => [p[role as AgentFile], f ?? null]));
}

const older = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

export const kind: HostKind<VaultAgentSpec, VaultAgentState> = {
  name: "VaultAgent",
  version: 1,
  validate: (s, secrets) => validateVaultAgent(s, secrets),
  async preflight(host, s) {
    const r = await host.run([s.vaultBinary, "version"], { check: false }).catch((e: Error) => ({ code: 127, stdout: "", stderr: e.message }));
    const got = r.code === 0 ? parseVaultVersion(r.stdout) : undefined;
    if (!got) {
      return [{ field: "vaultBinary", value: s.vaultBinary, message: `does not run on ${host.label} ('${s.vaultBinary} version' exited ${r.code}: ${(r.stderr || r.stdout).trim().split("\n").pop()}); install Vault there (HashiCorp's package puts it in /usr/bin/vault) and name it here` }];
    }
    if (older(got, MIN_VAULT) < 0) {
      return [{ field: "vaultBinary", value: s.vaultBinary, message: `is Vault ${got.join(".")} on ${host.label}; the agent's template exec blocks need ${MIN_VAULT.join(".")} or later: upgrade Vault there` }];
    }
    return [];
  },
  render: (s) => ({ files: renderVaultAgent(s), roleIdCurrent: true, secretIdCurrent: true }),
  async probe(host, s, secrets) {
    const p = vaultAgentPaths(s);
    const roles = Object.keys(renderVaultAgent(s)) as AgentFile[];
    const found = await probeFiles(host, roles.map((r) => p[r]));
    const files = Object.fromEntries(roles.map((r) => [r, found[p[r]]]));
    const roleId = await host.readFile(p.roleId);
    const secretId = await host.readFile(p.secretId);
    if (roleId === undefined && secretId === undefined && Object.values(files).every((f) => f === null)) return undefined;
    return {
      files,
      roleIdCurrent: typeof secrets.roleId === "string" ? sameSecret(roleId, secrets.roleId) : null,
      secretIdCurrent: typeof secrets.secretId === "string" ? sameSecret(secretId, secrets.secretId) : null,
    };
  },
  compare: (d, o) => [
    // By role and property, so the drift shows the file's changed lines (`files.config.content`).
    ...(Object.keys(d.files) as AgentFile[]).flatMap((r) => {
      const want = d.files[r]!;
      const got = o.files?.[r];
      return got ? compareConfigFile(want, got).map((k) => `files.${r}.${k}`) : [`files.${r}`];
    }),
    ...(["roleIdCurrent", "secretIdCurrent"] as const).filter((k) => o[k] === false),
  ],
  async apply(host, { spec, desired, live, secrets, log }) {
    const p = vaultAgentPaths(spec);
    const files = byPath(spec, desired.files) as Record<string, ConfigFileState>;
    const changed = changedFiles(files, byPath(spec, live?.files));
    const idsChanged = live?.roleIdCurrent !== true || live?.secretIdCurrent !== true;
    if (!changed.length && !idsChanged) return;
    if (changed.includes(p.unit)) await verifyUnits(host, { [vaultAgentUnit(spec)]: files[p.unit].content });
    await host.run(["mkdir", "-p", "-m", "0700", "--", spec.configDir]);
    if (live?.roleIdCurrent !== true) await host.writeFileAtomic(p.roleId, secrets.roleId, { mode: "0600" });
    if (live?.secretIdCurrent !== true) await host.writeFileAtomic(p.secretId, secrets.secretId, { mode: "0600" });
    await writeFiles(host, files, byPath(spec, live?.files));
    if (spec.service) {
      // The agent reads its config and the AppRole ids at start: restart a running one (the
      // component's HostService starts a stopped one).
      if (changed.includes(p.unit)) await host.run(["systemctl", "daemon-reload"]);
      await host.run(["systemctl", "try-restart", "--", vaultAgentUnit(spec)]);
    }
    log(`Vault Agent ${spec.name} configured in ${spec.configDir} on ${host.label} (${spec.templates.length} template(s))`);
  },
  async remove(host, spec, _observed, log) {
    const p = vaultAgentPaths(spec);
    if (spec.service) await host.run(["systemctl", "disable", "--now", "--", vaultAgentUnit(spec)], { check: false });
    for (const f of [p.unit, p.config, p.roleId, p.secretId, p.ca]) await host.removeFile(f);
    if (spec.service) await host.run(["systemctl", "daemon-reload"], { check: false });
    log(`removed Vault Agent ${spec.name} (${spec.configDir}) on ${host.label}; the files it rendered stay`);
  },
  id: (s) => `VaultAgent:${s.configDir}`,
};
