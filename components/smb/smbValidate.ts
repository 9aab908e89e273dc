/**
 * Samba validation and default resolution: pure functions, every problem at once, each naming
 * the field, the value and the fix.
 */
import * as path from "path";
import { Problem } from "../../core/errors";
import { Checker, isUnknown, parseMode } from "../../core/validate";
import { clientKind } from "../../core/clients";
import type { SambaServerArgs } from "./sambaServer";
import { HARDENING, SAMBA_DEFAULTS, SambaServerSpec, SHARE_HARDENING, SMB_MIN_PROTOCOLS, SmbShareSpec, SmbUserSpec } from "./smbSpec";

/** SambaServer args as plain values (the documented args without the connection). */
export type PlainSambaServerArgs = Omit<SambaServerArgs, "connection">;

/** SmbShare args as plain values. */
export interface PlainSmbShareArgs {
  shareName?: string;
  path: string;
  validUsers?: string[];
  validGroups?: string[];
  readOnly?: boolean;
  createMask?: string;
  directoryMask?: string;
  hostsAllow: string[];
  allowAnyClient?: boolean;
  browseable?: boolean;
  sharesDir?: string;
  sharesIndexPath?: string;
  reloadCommand?: string[];
  check?: boolean;
  extraParameters?: Record<string, string>;
}

export function resolveSambaServer(name: string, a: PlainSambaServerArgs): SambaServerSpec {
  const s: SambaServerSpec = {
    name,
    configPath: a.configPath ?? SAMBA_DEFAULTS.configPath,
    sharesDir: a.sharesDir ?? SAMBA_DEFAULTS.sharesDir,
    sharesIndexPath: a.sharesIndexPath ?? SAMBA_DEFAULTS.sharesIndexPath,
    workgroup: a.workgroup ?? SAMBA_DEFAULTS.workgroup,
    serverString: a.serverString ?? "kvmshare",
    minProtocol: a.minProtocol ?? "SMB3_00",
    ports: a.ports ?? SAMBA_DEFAULTS.ports,
    interfaces: a.interfaces ?? [],
    hostsAllow: a.hostsAllow ?? [],
    reloadCommand: a.reloadCommand ?? SAMBA_DEFAULTS.reloadCommand,
    check: a.check ?? true,
    extraParameters: a.extraParameters ?? {},
  };
  if (a.passdbPath !== undefined) s.passdbPath = a.passdbPath;
  if (a.stateDir !== undefined) s.stateDir = a.stateDir;
  if (a.logFile !== undefined) s.logFile = a.logFile;
  return s;
}

export function resolveSmbShare(name: string, a: PlainSmbShareArgs): SmbShareSpec {
  const shareName = a.shareName ?? name;
  const sharesDir = a.sharesDir ?? SAMBA_DEFAULTS.sharesDir;
  return {
    name: shareName,
    path: a.path,
    validUsers: a.validUsers ?? [],
    validGroups: a.validGroups ?? [],
    readOnly: a.readOnly ?? false,
    createMask: a.createMask ?? "0640",
    directoryMask: a.directoryMask ?? "0750",
    hostsAllow: a.hostsAllow,
    allowAnyClient: a.allowAnyClient ?? false,
    browseable: a.browseable ?? true,
    sharesDir,
    sharesIndexPath: a.sharesIndexPath ?? SAMBA_DEFAULTS.sharesIndexPath,
    file: path.posix.join(sharesDir, `${shareName}.conf`),
    reloadCommand: a.reloadCommand ?? SAMBA_DEFAULTS.reloadCommand,
    check: a.check ?? true,
    extraParameters: a.extraParameters ?? {},
  };
}

const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const GROUP = USER;
/** smb.conf values end at the line end; `;`/`#` at a line start are comments. */
const PLAIN_VALUE = /^[^\n\r\0]*$/;
const HARDENED_KEYS = new Set([...HARDENING, ...SHARE_HARDENING].map((h) => h.key));
const MANAGED_GLOBAL: Record<string, string> = {
  "server min protocol": "minProtocol", "min protocol": "minProtocol", "smb ports": "ports", interfaces: "interfaces",
  "bind interfaces only": "interfaces", "hosts allow": "hostsAllow", "passdb backend": "passdbPath", workgroup: "workgroup",
  "server string": "serverString", "log file": "logFile", include: "(managed)", "guest ok": "(never)", "server role": "(standalone)",
};
const MANAGED_SHARE: Record<string, string> = {
  path: "path", "valid users": "validUsers", "read only": "readOnly", writeable: "readOnly", writable: "readOnly",
  "create mask": "createMask", "directory mask": "directoryMask", "hosts allow": "hostsAllow", "hosts deny": "hostsAllow",
  browseable: "browseable", public: "(never)", "guest only": "(never)", include: "(managed)",
};

function argv(c: Checker, field: string, v: unknown): void {
  if (!Array.isArray(v) || !v.length || v.some((x) => typeof x !== "string" || x === "")) {
    c.add(field, v, "must be a non-empty argv array of strings, e.g. ['systemctl', 'reload', 'smbd']");
  }
}

function confPath(c: Checker, field: string, v: string | undefined): void {
  c.absPath(field, v);
  if (typeof v === "string" && !isUnknown(v) && /[\s"'\\]|%/.test(v)) c.add(field, v, "must not contain spaces, quotes, backslashes or '%' (smb.conf would read them differently)");
}

function extra(c: Checker, field: string, params: Record<string, string>, managed: Record<string, string>): void {
  for (const [k, v] of Object.entries(params ?? {})) {
    const key = k.trim().toLowerCase().replace(/\s+/g, " ");
    const f = `${field}.${k}`;
    if (!/^[a-z][a-z0-9 :_-]*$/.test(key)) c.add(f, k, "must be an smb.conf parameter name (letters, digits, spaces, ':', '_', '-')");
    else if (HARDENED_KEYS.has(key)) c.add(f, k, "is part of kvmshare's hardening and cannot be overridden");
    else if (key in managed) c.add(f, k, `is set by the '${managed[key]}' field; use that instead`);
    if (typeof v !== "string" || !PLAIN_VALUE.test(v) || v.trim() === "") c.add(f, v, "must be a one-line, non-empty string");
  }
}

function hostList(c: Checker, field: string, hosts: string[], allowAny: boolean, required: boolean): void {
  if (!Array.isArray(hosts) || (required && hosts.length === 0)) {
    c.add(field, hosts, "must list the clients that may connect (IPs, CIDRs like 192.168.122.0/24, or host names)");
    return;
  }
  hosts.forEach((h, i) => {
    if (isUnknown(h)) return;
    const k = typeof h === "string" ? clientKind(h) : "invalid";
    if (k === "invalid" || k === "wildcard") c.add(`${field}[${i}]`, h, "must be an IP address, a CIDR like 192.168.122.0/24, a host name, or '*'");
    if (k === "any" && !allowAny) c.add(`${field}[${i}]`, h, "lets every host that can reach the server connect; list the guests' addresses, or set allowAnyClient: true if that is really meant");
  });
}

export function validateSambaServer(s: SambaServerSpec): Problem[] {
  const c = new Checker("SambaServer");
  for (const f of ["configPath", "sharesDir", "sharesIndexPath"] as const) confPath(c, f, s[f]);
  if (s.passdbPath !== undefined) confPath(c, "passdbPath", s.passdbPath);
  if (s.stateDir !== undefined) confPath(c, "stateDir", s.stateDir);
  if (s.logFile !== undefined) confPath(c, "logFile", s.logFile);
  if (typeof s.workgroup !== "string" || !/^[A-Za-z0-9_-]{1,15}$/.test(s.workgroup)) c.add("workgroup", s.workgroup, "must be 1-15 letters, digits, '_' or '-' (a NetBIOS name)");
  if (typeof s.serverString !== "string" || !PLAIN_VALUE.test(s.serverString)) c.add("serverString", s.serverString, "must be a one-line string");
  c.oneOf("minProtocol", s.minProtocol, SMB_MIN_PROTOCOLS);
  if (!Array.isArray(s.ports) || !s.ports.length) c.add("ports", s.ports, "must list at least one TCP port, e.g. [445]");
  else s.ports.forEach((p, i) => c.port(`ports[${i}]`, p));
  (s.interfaces ?? []).forEach((x, i) => {
    if (typeof x !== "string" || !/^[A-Za-z0-9_.:\/-]+$/.test(x)) c.add(`interfaces[${i}]`, x, "must be an interface name, an IP or a CIDR");
  });
  hostList(c, "hostsAllow", s.hostsAllow, false, false);
  argv(c, "reloadCommand", s.reloadCommand);
  extra(c, "extraParameters", s.extraParameters, MANAGED_GLOBAL);
  return c.problems;
}

export function validateSmbShare(s: SmbShareSpec): Problem[] {
  const c = new Checker("SmbShare");
  if (typeof s.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(s.name) || ["global", "homes", "printers"].includes(s.name.toLowerCase())) {
    c.add("shareName", s.name, "must be 1-80 letters, digits, '_', '.', '-' and not global, homes or printers");
  }
  c.required("path", s.path);
  c.absPath("path", s.path);
  if (typeof s.path === "string" && !isUnknown(s.path) && /[\n\r"%]/.test(s.path)) c.add("path", s.path, "must not contain quotes, '%' or newlines (smb.conf would read them differently)");
  if ((s.validUsers?.length ?? 0) + (s.validGroups?.length ?? 0) === 0) {
    c.add("validUsers", s.validUsers, "must name at least one user (or set validGroups): a share everyone with an account may open is a mistake");
  }
  (s.validUsers ?? []).forEach((u, i) => { if (!USER.test(u)) c.add(`validUsers[${i}]`, u, "must be a Unix user name (letters, digits, '_.-', at most 32)"); });
  (s.validGroups ?? []).forEach((g, i) => { if (!GROUP.test(g)) c.add(`validGroups[${i}]`, g, "must be a Unix group name (letters, digits, '_.-', at most 32)"); });
  for (const f of ["createMask", "directoryMask"] as const) {
    c.mode(f, s[f]);
    const m = parseMode(s[f]);
    if (m !== undefined && m & 0o002) c.add(f, s[f], "lets every local user write the share's files; drop the 'other' write bit (e.g. 0640 / 0750)");
  }
  if (typeof s.readOnly !== "boolean") c.add("readOnly", s.readOnly, "must be true or false");
  hostList(c, "hostsAllow", s.hostsAllow, s.allowAnyClient, true);
  confPath(c, "sharesDir", s.sharesDir);
  confPath(c, "sharesIndexPath", s.sharesIndexPath);
  argv(c, "reloadCommand", s.reloadCommand);
  extra(c, "extraParameters", s.extraParameters, MANAGED_SHARE);
  return c.problems;
}

export function validateSmbUser(s: SmbUserSpec): Problem[] {
  const c = new Checker("SmbUser");
  if (typeof s.name !== "string" || !USER.test(s.name)) c.add("name", s.name, "must be a Unix user name (letters, digits, '_.-', at most 32)");
  confPath(c, "configPath", s.configPath);
  return c.problems;
}
