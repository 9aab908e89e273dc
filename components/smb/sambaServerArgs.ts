/**
 * SambaServer: the args (declared once, documented), their defaults, the resolved spec the
 * host-side kind gets (derived from the args) and its validation (pure; every problem at once).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker } from "../../core/validate";
import { samePathProblems } from "../../core/writePaths";
import type { HostSetupArgs } from "../host";
import { isAnyHost } from "../../core/clients";
import { confPath, extraParameters, hostList, PLAIN_VALUE, SAMBA_DEBIAN } from "./smbConf";

/** Lowest SMB dialect the server accepts. */
export type SmbMinProtocol = "SMB3_00" | "SMB3_02" | "SMB3_11";
export const SMB_MIN_PROTOCOLS: readonly SmbMinProtocol[] = ["SMB3_00", "SMB3_02", "SMB3_11"];

export interface SambaServerArgs extends HostSetupArgs {
  /** The Samba host. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The smb.conf kvmshare owns (a previous one is kept as `<path>.kvmshare-orig` and restored on destroy). @default "/etc/samba/smb.conf" @fieldKind path file */
  configPath?: string;
  /** Directory of the share files. @default "/etc/samba/kvmshare.d" @fieldKind path dir */
  sharesDir?: string;
  /** The file that includes every share file (included from the config). @default "/etc/samba/kvmshare-shares.conf" @fieldKind path file */
  sharesIndexPath?: string;
  /** NetBIOS workgroup. @default "WORKGROUP" @fieldKind name */
  workgroup?: string;
  /** `server string`. @default "kvmshare" @fieldKind free */
  serverString?: string;
  /** Lowest dialect accepted (SMB2 and NT1 clients are refused). @default "SMB3_00" */
  minProtocol?: SmbMinProtocol;
  /** TCP ports smbd listens on. @default [445] */
  ports?: number[];
  /** Interfaces/addresses to bind (`bind interfaces only`), e.g. `["virbr0"]`. @default []: all @fieldKind address */
  interfaces?: string[];
  /** Server-wide `hosts allow` (IPs/CIDRs/names). @default []: no server-wide restriction (each share sets its own) @fieldKind address */
  hostsAllow?: string[];
  /** A private tdbsam passdb file (`passdb backend = tdbsam:<path>`). @default unset: Samba's passdb @fieldKind path file */
  passdbPath?: string;
  /** One directory for Samba's private/lock/state/cache/pid dirs (sandboxes, second instances). @default unset: Samba's @fieldKind path dir */
  stateDir?: string;
  /** `log file`. @default unset: Samba's (syslog/`/var/log/samba`) @fieldKind path file */
  logFile?: string;
  /** argv that makes smbd re-read its config. @default ["systemctl","reload","smbd"] @fieldKind free argv */
  reloadCommand?: string[];
  /** Run `testparm -s` on the new config before it goes live. @default true */
  check?: boolean;
  /** Further [global] parameters; the hardening rows cannot be overridden. @default {}: none @fieldKind command */
  extraParameters?: Record<string, string>;
  /**
   * Let `extraParameters` set parameters that run commands (`root preexec`, `preexec`,
   * `postexec`, `username map script`, `add user script`, `print command`, `magic script`... as
   * listed in core/reserved.ts), most of them as root. @default false: such parameters are refused
   */
  allowCommands?: boolean;
}

/** SambaServer args as plain values (the documented args without the connection). */
export type PlainSambaServerArgs = Omit<SambaServerArgs, "connection" | "hostSetup">;

/**
 * The config file as observed on the host (the kind's state; declared here so the component
 * does not import its kind, which imports the share and user args that name SambaServer).
 */
export type SambaConfigState = { content: string; mode: string };

/** The fields that stay unset without a value (Samba's own default applies). */
type Unset = "passdbPath" | "stateDir" | "logFile";

/** The server's [global] section (plain JSON; every default resolved). */
export type SambaServerSpec = Resolved<PlainSambaServerArgs, Unset> & {
  /** Resource name (for messages and the file header). */
  name: string;
};

const SAMBA_SERVER_DEFAULTS: Defaults<PlainSambaServerArgs, Unset> = {
  configPath: SAMBA_DEBIAN.configPath,
  sharesDir: SAMBA_DEBIAN.sharesDir,
  sharesIndexPath: SAMBA_DEBIAN.sharesIndexPath,
  workgroup: "WORKGROUP",
  serverString: "kvmshare",
  minProtocol: "SMB3_00",
  ports: [445],
  interfaces: [],
  hostsAllow: [],
  reloadCommand: SAMBA_DEBIAN.reloadCommand,
  check: true,
  extraParameters: {},
  allowCommands: false,
};

/** [global] parameters that have their own field (parameter -> field). */
const MANAGED_GLOBAL: Record<string, string> = {
  "server min protocol": "minProtocol", "min protocol": "minProtocol", "smb ports": "ports", interfaces: "interfaces",
  "bind interfaces only": "interfaces", "hosts allow": "hostsAllow", "passdb backend": "passdbPath", workgroup: "workgroup",
  "server string": "serverString", "log file": "logFile", include: "(managed)", "guest ok": "(never)", "server role": "(standalone)",
};

/** Fill every default: the spec the host-side kind gets. */
export function resolveSambaServer(name: string, a: PlainSambaServerArgs): SambaServerSpec {
  return { name, ...resolveDefaults<PlainSambaServerArgs, Unset>(a, SAMBA_SERVER_DEFAULTS) };
}

export function validateSambaServer(s: SambaServerSpec): Problem[] {
  const c = new Checker("SambaServer");
  for (const f of ["configPath", "sharesIndexPath"] as const) confPath(c, f, s[f]);
  confPath(c, "sharesDir", s.sharesDir, "dir");
  if (s.passdbPath !== undefined) confPath(c, "passdbPath", s.passdbPath);
  if (s.stateDir !== undefined) confPath(c, "stateDir", s.stateDir, "dir");
  if (s.logFile !== undefined) confPath(c, "logFile", s.logFile);
  c.problems.push(...samePathProblems({ configPath: s.configPath, sharesIndexPath: s.sharesIndexPath, passdbPath: s.passdbPath, logFile: s.logFile }));
  if (typeof s.workgroup !== "string" || !/^[A-Za-z0-9_-]{1,15}$/.test(s.workgroup)) c.add("workgroup", s.workgroup, "must be 1-15 letters, digits, '_' or '-' (a NetBIOS name)");
  if (typeof s.serverString !== "string" || !PLAIN_VALUE.test(s.serverString) || s.serverString.length > 256) c.add("serverString", s.serverString, "must be a one-line string of at most 256 characters, e.g. 'kvmshare'");
  c.oneOf("minProtocol", s.minProtocol, SMB_MIN_PROTOCOLS);
  if (!Array.isArray(s.ports) || !s.ports.length) c.add("ports", s.ports, "must list at least one TCP port, e.g. [445]");
  else s.ports.forEach((p, i) => c.port(`ports[${i}]`, p));
  (s.interfaces ?? []).forEach((x, i) => {
    if (typeof x !== "string" || !/^[A-Za-z0-9_.:\/-]+$/.test(x)) c.add(`interfaces[${i}]`, x, "must be an interface name, an IP or a CIDR");
    else if (isAnyHost(x)) c.add(`interfaces[${i}]`, x, "binds smbd to every address, which undoes 'bind interfaces only'; name the guest-facing interface or its address, e.g. 'virbr0' or '192.168.122.1/24'");
  });
  hostList(c, "hostsAllow", s.hostsAllow, false, false);
  c.argv("reloadCommand", s.reloadCommand, "['systemctl', 'reload', 'smbd']");
  extraParameters(c, "extraParameters", s.extraParameters, MANAGED_GLOBAL, s.allowCommands);
  if (typeof s.allowCommands !== "boolean") c.add("allowCommands", s.allowCommands, "must be true or false");
  return c.problems;
}
