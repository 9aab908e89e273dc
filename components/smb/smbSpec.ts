/**
 * Samba inputs: the server's global (hardened) settings, shares and users, resolved into plain
 * specs for the host-side kinds, with the Debian paths and commands in one table.
 */

/** Lowest SMB dialect the server accepts. */
export type SmbMinProtocol = "SMB3_00" | "SMB3_02" | "SMB3_11";
export const SMB_MIN_PROTOCOLS: readonly SmbMinProtocol[] = ["SMB3_00", "SMB3_02", "SMB3_11"];

/** Debian's Samba: paths and commands. */
export const SAMBA_DEFAULTS = {
  configPath: "/etc/samba/smb.conf",
  sharesDir: "/etc/samba/kvmshare.d",
  sharesIndexPath: "/etc/samba/kvmshare-shares.conf",
  // smbd.service: ExecReload=/bin/kill -HUP $MAINPID
  reloadCommand: ["systemctl", "reload", "smbd"],
  ports: [445],
  workgroup: "WORKGROUP",
};

/** The server's [global] section (plain JSON; every default resolved). */
export interface SambaServerSpec {
  /** Resource name (for messages and the file header). */
  name: string;
  configPath: string;
  sharesDir: string;
  sharesIndexPath: string;
  workgroup: string;
  serverString: string;
  minProtocol: SmbMinProtocol;
  ports: number[];
  /** Addresses/interfaces to bind (empty: all). */
  interfaces: string[];
  /** Server-wide `hosts allow` (empty: no server-wide restriction; shares set their own). */
  hostsAllow: string[];
  /** `tdbsam:<path>` when set, else Samba's default passdb. */
  passdbPath?: string;
  /** One directory for private/lock/state/cache/pid dirs (a sandbox); unset: Samba's defaults. */
  stateDir?: string;
  /** `log file`; unset: Samba's default. */
  logFile?: string;
  reloadCommand: string[];
  check: boolean;
  /** Further [global] parameters (checked by testparm). */
  extraParameters: Record<string, string>;
  [k: string]: unknown;
}

/** One share (plain JSON; every default resolved). */
export interface SmbShareSpec {
  /** Share name (the `[section]`), also the file name stem. */
  name: string;
  path: string;
  validUsers: string[];
  validGroups: string[];
  readOnly: boolean;
  createMask: string;
  directoryMask: string;
  hostsAllow: string[];
  allowAnyClient: boolean;
  browseable: boolean;
  sharesDir: string;
  sharesIndexPath: string;
  /** `<sharesDir>/<name>.conf` */
  file: string;
  reloadCommand: string[];
  check: boolean;
  extraParameters: Record<string, string>;
  [k: string]: unknown;
}

/** One Samba user (the password travels in the resource's secrets, never here). */
export interface SmbUserSpec {
  name: string;
  /** The smb.conf `smbpasswd`/`pdbedit` read (it names the passdb). */
  configPath: string;
  [k: string]: unknown;
}

/**
 * The hardening every server gets, one row each: parameter, value, why. Weaker values are not
 * offered as arguments; `extraParameters` may not override these (validation says so).
 */
export const HARDENING: { key: string; value: string; why: string }[] = [
  { key: "server signing", value: "mandatory", why: "no unsigned sessions (tampering)" },
  { key: "server smb encrypt", value: "required", why: "every session and share encrypted (AES-GCM/CCM)" },
  { key: "ntlm auth", value: "ntlmv2-only", why: "NTLMv1 off" },
  { key: "restrict anonymous", value: "2", why: "no anonymous (null session) access" },
  { key: "map to guest", value: "never", why: "a bad user or password is refused, never mapped to guest" },
  { key: "usershare allow guests", value: "no", why: "no guest user shares" },
  { key: "usershare max shares", value: "0", why: "only declared shares" },
  { key: "disable netbios", value: "yes", why: "no NetBIOS name service" },
  { key: "load printers", value: "no", why: "no printer shares" },
  { key: "printing", value: "bsd", why: "(with printcap /dev/null) no printing subsystem" },
  { key: "printcap name", value: "/dev/null", why: "no printers" },
  { key: "disable spoolss", value: "yes", why: "no print spooler RPC" },
];

/** Per-share settings kvmshare always writes. */
export const SHARE_HARDENING: { key: string; value: string }[] = [
  { key: "guest ok", value: "no" },
  { key: "smb encrypt", value: "required" },
];
