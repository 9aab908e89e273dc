/**
 * Samba facts shared by the server, shares and users: Debian's paths and commands (one table),
 * the hardening rows every config gets, and the checks of values written into smb.conf.
 */
import { Checker, isUnknown, LINE_BREAKING } from "../../core/validate";
import { PathUse } from "../../core/writePaths";
import { anyHostProblem, clientKind } from "../../core/clients";
import { isSmbCommandParameter, smbParamKey } from "../../core/reserved";

/** Debian's Samba: paths and commands. */
export const SAMBA_DEBIAN = {
  configPath: "/etc/samba/smb.conf",
  sharesDir: "/etc/samba/kvmshare.d",
  sharesIndexPath: "/etc/samba/kvmshare-shares.conf",
  // smbd.service: ExecReload=/bin/kill -HUP $MAINPID
  reloadCommand: ["systemctl", "reload", "smbd"],
};

type Hardening = { key: string; value: string; why: string }[];

/** Sessions: signed, encrypted, NTLMv2 or better, never anonymous or mapped to guest. */
const SESSION_HARDENING: Hardening = [
  { key: "server signing", value: "mandatory", why: "no unsigned sessions (tampering)" },
  { key: "server smb encrypt", value: "required", why: "every session and share encrypted (AES-GCM/CCM)" },
  { key: "ntlm auth", value: "ntlmv2-only", why: "NTLMv1 off" },
  { key: "restrict anonymous", value: "2", why: "no anonymous (null session) access" },
  { key: "map to guest", value: "never", why: "a bad user or password is refused, never mapped to guest" },
];

/** No user shares and no NetBIOS name service: only the shares declared here. */
const USERSHARES_OFF: Hardening = [
  { key: "usershare allow guests", value: "no", why: "no guest user shares" },
  { key: "usershare max shares", value: "0", why: "only declared shares" },
  { key: "disable netbios", value: "yes", why: "no NetBIOS name service" },
];

/** No printing. */
const PRINTING_OFF: Hardening = [
  { key: "load printers", value: "no", why: "no printer shares" },
  { key: "printing", value: "bsd", why: "(with printcap /dev/null) no printing subsystem" },
  { key: "printcap name", value: "/dev/null", why: "no printers" },
  { key: "disable spoolss", value: "yes", why: "no print spooler RPC" },
];

/**
 * The hardening every server gets, one row each: parameter, value, why. Weaker values are not
 * offered as arguments; `extraParameters` may not override these (validation says so).
 */
export const HARDENING: Hardening = [...SESSION_HARDENING, ...USERSHARES_OFF, ...PRINTING_OFF];

/** Per-share settings kvmshare always writes. */
export const SHARE_HARDENING: { key: string; value: string }[] = [
  { key: "guest ok", value: "no" },
  { key: "smb encrypt", value: "required" },
];

/** A Unix user (or group) name. */
export const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/i;
/**
 * smb.conf values end at the line end (no line breaks or other control characters), and a
 * trailing backslash (even before trailing spaces) continues the line, which would swallow the
 * next parameter.
 */
export const PLAIN_VALUE = /^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]*(?<!\\[ \t]*)$/;
const HARDENED_KEYS = new Set([...HARDENING, ...SHARE_HARDENING].map((h) => smbParamKey(h.key)));

/** A path smb.conf reads as written. */
export function confPath(c: Checker, field: string, v: string | undefined, use: PathUse = "file"): void {
  c.absPath(field, v, use);
  if (typeof v === "string" && !isUnknown(v) && /[\s"'\\]|%/.test(v)) c.add(field, v, "must not contain spaces, quotes, backslashes or '%' (smb.conf would read them differently)");
}

/**
 * Further parameters: names smb.conf knows, not hardened, not set by a field (`managed`: parameter
 * -> field), compared as Samba compares them (no case, no spaces: "serversigning" is "server
 * signing"); a parameter that runs a command (`SMB_COMMAND_PARAMETERS`) only with `allowCommands`.
 */
export function extraParameters(c: Checker, field: string, params: Record<string, string>, managed: Record<string, string>, allowCommands = false): void {
  const managedKeys = new Map(Object.entries(managed).map(([p, f]) => [smbParamKey(p), f]));
  for (const [k, v] of Object.entries(params ?? {})) {
    const key = k.trim().toLowerCase().replace(/\s+/g, " ");
    const f = `${field}.${k}`;
    if (!/^[a-z][a-z0-9 :_-]*$/.test(key) || LINE_BREAKING.test(k)) c.add(f, k, "must be an smb.conf parameter name (letters, digits, spaces, ':', '_', '-')");
    else if (HARDENED_KEYS.has(smbParamKey(key))) c.add(f, k, "is part of kvmshare's hardening and cannot be overridden");
    else if (managedKeys.has(smbParamKey(key))) c.add(f, k, `is set by the '${managedKeys.get(smbParamKey(key))}' field; use that instead`);
    else if (isSmbCommandParameter(key) && allowCommands !== true) {
      c.add(f, k, "runs a command (as root, for most of these parameters) or reads another config file; set allowCommands: true if that is really meant, or leave the parameter out");
    }
    if (typeof v !== "string" || !PLAIN_VALUE.test(v) || v.trim() === "") c.add(f, v, "must be a one-line, non-empty string without control characters or a trailing backslash (smb.conf reads one as a line continuation)");
  }
}

/** Words `hosts allow` reads as patterns, not names (hosts_access(5) as Samba implements it); ALL is an any-host entry. */
const SAMBA_HOST_KEYWORDS = /^(local|except|known|unknown|paranoid)$/i;

/** A `hosts allow` list: IPs, CIDRs, host names, `*` only with `allowAny`. */
export function hostList(c: Checker, field: string, hosts: string[], allowAny: boolean, required: boolean): void {
  if (!Array.isArray(hosts) || (required && hosts.length === 0)) {
    c.add(field, hosts, "must list the clients that may connect (IPs, CIDRs like 192.168.122.0/24, or host names)");
    return;
  }
  hosts.forEach((h, i) => {
    if (isUnknown(h)) return;
    const k = typeof h === "string" ? clientKind(h) : "invalid";
    if (k === "invalid" || k === "wildcard") c.add(`${field}[${i}]`, h, "must be an IP address, a CIDR like 192.168.122.0/24, a host name, or '*'");
    else if (k === "hostname" && SAMBA_HOST_KEYWORDS.test(h)) c.add(`${field}[${i}]`, h, "is a keyword of Samba's 'hosts allow' (it matches more than one host), not a host name; list the guests' addresses");
    if (k === "any" && !allowAny) c.problems.push(anyHostProblem(`${field}[${i}]`, h, "allowAnyClient"));
  });
}
