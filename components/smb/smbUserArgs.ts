/**
 * SmbUser: the args (declared once, documented), the resolved spec the host-side kind gets
 * (derived from the args) and its validation (pure).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker, SecretRules } from "../../core/validate";
import type { SambaServer } from "./sambaServer";
import { confPath, SAMBA_DEBIAN, USER_NAME } from "./smbConf";

export interface SmbUserArgs {
  /** The server whose passdb holds the user (its connection and config are used). @default unset: `connection` and `configPath` say where */
  server?: SambaServer;
  /** The Samba host, when `server` is not given. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The smb.conf naming the passdb, when `server` is not given. @default "/etc/samba/smb.conf" @fieldKind path file */
  configPath?: string;
  /** The user name; a Unix account of that name must exist. @default the resource name @fieldKind name */
  userName?: string;
  /** The password: pass a `pulumi.secret`. It reaches `smbpasswd -s` on stdin only. @fieldKind free secret */
  password: pulumi.Input<string>;
}

/** One Samba user (the password travels in the resource's secrets, never here). */
export type SmbUserSpec = Resolved<Pick<SmbUserArgs, "configPath">> & {
  /** The user name (the resolved `userName`). */
  name: string;
};

const SMB_USER_DEFAULTS: Defaults<Pick<SmbUserArgs, "configPath">> = { configPath: SAMBA_DEBIAN.configPath };

/** Fill every default (a server's config wins over `configPath`): the spec the host-side kind gets. */
export function resolveSmbUser(name: string, a: Omit<SmbUserArgs, "password" | "connection">): SmbUserSpec {
  return { name: a.userName ?? name, ...resolveDefaults({ configPath: a.server?.settings.configPath ?? a.configPath }, SMB_USER_DEFAULTS) };
}

/**
 * What `smbpasswd -s` takes: one line read with fgets into a 256-byte fstring (Samba's
 * source3/utils/passwd_util.c), so at most 254 bytes before the newline.
 */
export const SMB_PASSWORD_RULES: SecretRules = { maxBytes: 254, why: "smbpasswd -s reads one line into a 256-byte buffer" };

/**
 * Problems with a user and, when `secrets` is given (the provider's check), its password: empty,
 * line breaks, NUL, control characters, longer than smbpasswd takes. The password never
 * reaches a message. `secrets` undefined: not known yet (preview), not checked.
 */
export function validateSmbUser(s: SmbUserSpec, secrets?: Record<string, unknown>): Problem[] {
  const c = new Checker("SmbUser");
  if (secrets !== undefined) {
    if (secrets.password === undefined) c.add("password", undefined, "is required (pass it as a pulumi.secret)");
    else c.secret("password", secrets.password, SMB_PASSWORD_RULES);
  }
  if (typeof s.name !== "string" || !USER_NAME.test(s.name)) c.add("name", s.name, "must be a Unix user name (letters, digits, '_.-', at most 32)");
  confPath(c, "configPath", s.configPath);
  return c.problems;
}
