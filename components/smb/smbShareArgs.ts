/**
 * SmbShare: the args (declared once, documented), their defaults, the resolved spec the
 * host-side kind gets (derived from the args) and its validation (pure; every problem at once).
 */
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker, isUnknown, parseMode } from "../../core/validate";
import type { SambaServer } from "./sambaServer";
import type { SmbUser } from "./smbUser";
import { confPath, extraParameters, hostList, SAMBA_DEBIAN, USER_NAME } from "./smbConf";

export interface SmbShareArgs {
  /** The server (its connection, shares directory, index and reload command are used). @default unset: `connection`, `sharesDir`, `sharesIndexPath` and `reloadCommand` say where */
  server?: SambaServer;
  /** The Samba host, when `server` is not given. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The directory to share (absolute; must exist), e.g. a ZfsDataset's mountpoint output. @fieldKind path tree */
  path: pulumi.Input<string>;
  /** Share name (`\\server\name`). @default the resource name @fieldKind name */
  shareName?: string;
  /** Users allowed in: names or `SmbUser`s (which the share then waits for). At least one of `validUsers` and `validGroups` is required. @default []: only `validGroups` @fieldKind name */
  validUsers?: (string | SmbUser)[];
  /** Unix groups allowed in (`@group`). @default []: only `validUsers` @fieldKind name */
  validGroups?: string[];
  /** Read-only share. @default false */
  readOnly?: boolean;
  /** Mode bits for new files. @default "0740": owner rwx (Samba grants a file's NT execute right, part of full access, from the owner's x bit), group read, others nothing @fieldKind free */
  createMask?: string;
  /** Mode bits for new directories. @default "0750" @fieldKind free */
  directoryMask?: string;
  /** Clients that may connect (IPs, CIDRs, host names; `*` needs `allowAnyClient`); everyone else is denied. @fieldKind address */
  hostsAllow: string[];
  /** Allow `*` in hostsAllow. @default false */
  allowAnyClient?: boolean;
  /** List the share in browse lists. @default true */
  browseable?: boolean;
  /** Directory of the share files, when `server` is not given. @default "/etc/samba/kvmshare.d" @fieldKind path dir */
  sharesDir?: string;
  /** The index file that includes every share, when `server` is not given. @default "/etc/samba/kvmshare-shares.conf" @fieldKind path file */
  sharesIndexPath?: string;
  /** argv that makes smbd re-read its config, when `server` is not given. @default ["systemctl","reload","smbd"] @fieldKind free argv */
  reloadCommand?: string[];
  /** Run `testparm -s` on the new share before it goes live. @default true */
  check?: boolean;
  /** Further share parameters (checked by testparm); hardening rows cannot be overridden. @default {}: none @fieldKind command */
  extraParameters?: Record<string, string>;
  /**
   * Let `extraParameters` set parameters that run commands (`root preexec`, `preexec`,
   * `postexec`, `username map script`, `add user script`, `print command`, `magic script`... as
   * listed in core/reserved.ts), most of them as root. @default false: such parameters are refused
   */
  allowCommands?: boolean;
}

/** SmbShare args as plain values: users by name, the server's settings taken in. */
export type PlainSmbShareArgs = Omit<Plain<Omit<SmbShareArgs, "server" | "connection">>, "validUsers"> & { validUsers?: string[] };

/** One share (plain JSON; every default resolved). */
export type SmbShareSpec = Resolved<Omit<PlainSmbShareArgs, "shareName">> & {
  /** Share name (the `[section]`, the resolved `shareName`), also the file name stem. */
  name: string;
  /** `<sharesDir>/<name>.conf` */
  file: string;
};

const SMB_SHARE_DEFAULTS: Defaults<Omit<PlainSmbShareArgs, "shareName">> = {
  validUsers: [],
  validGroups: [],
  readOnly: false,
  createMask: "0740",
  directoryMask: "0750",
  allowAnyClient: false,
  browseable: true,
  sharesDir: SAMBA_DEBIAN.sharesDir,
  sharesIndexPath: SAMBA_DEBIAN.sharesIndexPath,
  reloadCommand: SAMBA_DEBIAN.reloadCommand,
  check: true,
  extraParameters: {},
  allowCommands: false,
};

/** Share parameters that have their own field (parameter -> field). */
const MANAGED_SHARE: Record<string, string> = {
  path: "path", "valid users": "validUsers", "read only": "readOnly", writeable: "readOnly", writable: "readOnly",
  "create mask": "createMask", "directory mask": "directoryMask", "hosts allow": "hostsAllow", "hosts deny": "hostsAllow",
  browseable: "browseable", public: "(never)", "guest only": "(never)", include: "(managed)",
};

/** Fill every default: the spec the host-side kind gets. */
export function resolveSmbShare(name: string, a: PlainSmbShareArgs): SmbShareSpec {
  const { shareName, ...rest } = a;
  const r = resolveDefaults(rest, SMB_SHARE_DEFAULTS);
  const n = shareName ?? name;
  return { name: n, ...r, file: path.posix.join(r.sharesDir, `${n}.conf`) };
}

export function validateSmbShare(s: SmbShareSpec): Problem[] {
  const c = new Checker("SmbShare");
  if (typeof s.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(s.name) || ["global", "homes", "printers"].includes(s.name.toLowerCase())) {
    c.add("shareName", s.name, "must be 1-80 letters, digits, '_', '.', '-' and not global, homes or printers");
  }
  c.required("path", s.path);
  c.absPath("path", s.path, "tree");
  if (typeof s.path === "string" && !isUnknown(s.path) && /["%\\]/.test(s.path)) c.add("path", s.path, "must not contain quotes, '%' or backslashes (smb.conf would read them differently; a trailing backslash continues the line)");
  if ((s.validUsers?.length ?? 0) + (s.validGroups?.length ?? 0) === 0) {
    c.add("validUsers", s.validUsers, "must name at least one user (or set validGroups): a share everyone with an account may open is a mistake");
  }
  (s.validUsers ?? []).forEach((u, i) => { if (!USER_NAME.test(u)) c.add(`validUsers[${i}]`, u, "must be a Unix user name (letters, digits, '_.-', at most 32)"); });
  (s.validGroups ?? []).forEach((g, i) => { if (!USER_NAME.test(g)) c.add(`validGroups[${i}]`, g, "must be a Unix group name (letters, digits, '_.-', at most 32)"); });
  for (const f of ["createMask", "directoryMask"] as const) {
    c.mode(f, s[f]);
    const m = parseMode(s[f]);
    if (m !== undefined && m & 0o002) c.add(f, s[f], "lets every local user write the share's files; drop the 'other' write bit (e.g. 0640 / 0750)");
  }
  if (typeof s.readOnly !== "boolean") c.add("readOnly", s.readOnly, "must be true or false");
  hostList(c, "hostsAllow", s.hostsAllow, s.allowAnyClient, true);
  confPath(c, "sharesDir", s.sharesDir, "dir");
  confPath(c, "sharesIndexPath", s.sharesIndexPath);
  c.argv("reloadCommand", s.reloadCommand, "['systemctl', 'reload', 'smbd']");
  extraParameters(c, "extraParameters", s.extraParameters, MANAGED_SHARE, s.allowCommands);
  if (typeof s.allowCommands !== "boolean") c.add("allowCommands", s.allowCommands, "must be true or false");
  return c.problems;
}
