/**
 * KerberosRealm: a small site's own MIT KDC. The args (declared once, documented), the resolved
 * spec and validation. The master key and the admin password are Pulumi secrets that reach
 * `kdb5_util` and `kadmin.local` on stdin only.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker, SecretRules } from "../../core/validate";
import { samePathProblems } from "../../core/writePaths";
import type { HostSetupArgs } from "../host";
import { checkPrincipal, checkRealm, checkServer, KRB5_DEBIAN, TOKEN_TYPE } from "./krbNames";

/** The KDC's OTP pre-authentication (RFC 6560) through a RADIUS server (e.g. an `OtpRadius`). */
export interface KerberosOtpArgs {
  /** The RADIUS server, `host:port` (or an absolute path of a Unix socket). @fieldKind address */
  radiusServer: string;
  /** The shared RADIUS secret: pass a `pulumi.secret` (the same as the `OtpRadius`'s). Written to a 0600 file kdc.conf names, never into kdc.conf. @fieldKind free secret */
  radiusSecret: pulumi.Input<string>;
  /** The token type name (the `[otp]` subsection; `KerberosOtpUser` names it). @default "kvmshare" @fieldKind name */
  tokenType?: string;
  /** Seconds the KDC waits for RADIUS per try. @default 5 */
  timeoutSeconds?: number;
  /** Tries before the KDC gives up. @default 3 */
  retries?: number;
  /** Where the KDC reads the secret from. @default "/etc/krb5kdc/kvmshare-radius.secret" @fieldKind path tool */
  secretPath?: string;
}

export interface KerberosRealmArgs extends HostSetupArgs {
  /** The KDC host. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The realm, uppercase, e.g. `EXAMPLE.ORG`. @fieldKind name */
  realm: string;
  /** The database master key: pass a `pulumi.secret`. Only `kdb5_util create` reads it (stdin); the stash file keeps it on the KDC. @fieldKind free secret */
  masterKey: pulumi.Input<string>;
  /** The admin principal's password: pass a `pulumi.secret`. It reaches `kadmin.local` on stdin only. @fieldKind free secret */
  adminPassword: pulumi.Input<string>;
  /** The admin principal (without realm); `kadm5.acl` grants it everything. @default "admin/admin" @fieldKind principal */
  adminPrincipal?: string;
  /** The KDC's ports (UDP and TCP). @default [88] */
  kdcPorts?: number[];
  /** kadmind's port. @default 749 */
  kadmindPort?: number;
  /** Longest ticket life, in hours. @default 10 */
  maxLifeHours?: number;
  /** Longest renewable life, in days. @default 7 */
  maxRenewableLifeDays?: number;
  /** OTP pre-authentication through RADIUS (the second factor). @default unset: no [otp] section */
  otp?: KerberosOtpArgs;
  /** kdc.conf. @default "/etc/krb5kdc/kdc.conf" @fieldKind path file */
  kdcConfPath?: string;
  /** The krb5.conf the KDC's tools read (a `KerberosClient` on the KDC host writes it). @default "/etc/krb5.conf" @fieldKind path file */
  krb5ConfPath?: string;
  /** The database. @default "/var/lib/krb5kdc/principal" @fieldKind path file */
  databasePath?: string;
  /** The stash file holding the master key. @default "/etc/krb5kdc/stash" @fieldKind path file */
  stashPath?: string;
  /** kadmind's ACL file. @default "/etc/krb5kdc/kadm5.acl" @fieldKind path file */
  aclPath?: string;
  /** Log files `[logging]` names (`""`: syslog, the packages' default). @default "" @fieldKind path dir */
  logDir?: string;
  /** argv run after kdc.conf or the ACL changed, and after the database was created. @default ["systemctl","restart","krb5-kdc","krb5-admin-server"] @fieldKind free argv */
  restartCommand?: string[];
  /** On destroy, destroy the realm's database and stash (every principal and key in it). @default false: they stay */
  allowDestroy?: boolean;
}

type RealmDefaults = "adminPrincipal" | "kdcPorts" | "kadmindPort" | "maxLifeHours" | "maxRenewableLifeDays" | "kdcConfPath" | "krb5ConfPath" | "databasePath" | "stashPath" | "aclPath" | "logDir" | "restartCommand" | "allowDestroy";

/** The resolved OTP settings (the secret travels in the resource's secrets). */
export type KerberosOtpSpec = Resolved<Omit<KerberosOtpArgs, "radiusSecret">>;

/** What the host-side kind gets. */
export type KerberosRealmSpec = Resolved<Pick<KerberosRealmArgs, "realm" | RealmDefaults>> & {
  /** The resource name (for the files' headers). */
  name: string;
  /** OTP through RADIUS, when set. */
  otp?: KerberosOtpSpec;
};

const DEFAULTS: Defaults<Pick<KerberosRealmArgs, RealmDefaults>> = {
  adminPrincipal: "admin/admin",
  kdcPorts: [88],
  kadmindPort: 749,
  maxLifeHours: 10,
  maxRenewableLifeDays: 7,
  kdcConfPath: KRB5_DEBIAN.kdcConfPath,
  krb5ConfPath: KRB5_DEBIAN.krb5ConfPath,
  databasePath: KRB5_DEBIAN.databasePath,
  stashPath: KRB5_DEBIAN.stashPath,
  aclPath: KRB5_DEBIAN.aclPath,
  logDir: "",
  restartCommand: ["systemctl", "restart", ...KRB5_DEBIAN.kdcServices],
  allowDestroy: false,
};

const OTP_DEFAULTS: Defaults<Omit<KerberosOtpArgs, "radiusSecret" | "radiusServer">> = { tokenType: "kvmshare", timeoutSeconds: 5, retries: 3, secretPath: KRB5_DEBIAN.radiusSecretPath };

export function resolveKerberosRealm(name: string, a: Omit<KerberosRealmArgs, "connection" | "hostSetup" | "masterKey" | "adminPassword">): KerberosRealmSpec {
  // Only the spec's own fields: secrets and the connection never reach the spec (it is plain state).
  const { realm, otp } = a;
  const pick: Partial<Pick<KerberosRealmArgs, RealmDefaults>> = {};
  for (const k of Object.keys(DEFAULTS) as RealmDefaults[]) (pick as Record<string, unknown>)[k] = (a as Record<string, unknown>)[k];
  const spec: KerberosRealmSpec = { name, realm, ...resolveDefaults(pick, DEFAULTS) };
  if (otp) {
    const { radiusSecret: _s, ...o } = otp;
    void _s;
    spec.otp = { radiusServer: o.radiusServer, ...resolveDefaults({ tokenType: o.tokenType, timeoutSeconds: o.timeoutSeconds, retries: o.retries, secretPath: o.secretPath }, OTP_DEFAULTS) };
  }
  return spec;
}

/** What kdb5_util and kadmin's password prompts read: one line. */
export const KRB5_PASSWORD_RULES: SecretRules = { maxBytes: 1023, why: "MIT's password prompts read one line of at most 1023 bytes" };
/** The RADIUS shared secret: it sits between double quotes in clients.conf and in a one-line file. */
export const RADIUS_SECRET_RULES: SecretRules = { maxBytes: 128, why: "FreeRADIUS and MIT's otp plugin take shared secrets of at most 128 bytes" };

export function radiusSecretProblems(c: Checker, field: string, v: unknown): void {
  c.secret(field, v, RADIUS_SECRET_RULES);
  if (typeof v === "string" && /["\\]/.test(v)) c.add(field, undefined, "must not contain double quotes or backslashes (it sits between quotes in FreeRADIUS's clients.conf)");
}

export function validateKerberosRealm(s: KerberosRealmSpec, secrets?: Record<string, unknown>): Problem[] {
  const c = new Checker("KerberosRealm");
  c.required("realm", s.realm);
  checkRealm(c, "realm", s.realm);
  checkPrincipal(c, "adminPrincipal", s.adminPrincipal);
  if (!Array.isArray(s.kdcPorts) || !s.kdcPorts.length) c.add("kdcPorts", s.kdcPorts, "must list at least one port, e.g. [88]");
  else s.kdcPorts.forEach((p, i) => c.port(`kdcPorts[${i}]`, p));
  c.port("kadmindPort", s.kadmindPort);
  c.int("maxLifeHours", s.maxLifeHours, 1, 24 * 7, "hours");
  c.int("maxRenewableLifeDays", s.maxRenewableLifeDays, 0, 365, "days");
  for (const f of ["kdcConfPath", "krb5ConfPath", "databasePath", "stashPath", "aclPath"] as const) c.absPath(f, s[f]);
  if (s.logDir !== "") c.absPath("logDir", s.logDir, "dir");
  c.problems.push(...samePathProblems({ kdcConfPath: s.kdcConfPath, krb5ConfPath: s.krb5ConfPath, databasePath: s.databasePath, stashPath: s.stashPath, aclPath: s.aclPath, "otp.secretPath": s.otp?.secretPath }));
  c.argv("restartCommand", s.restartCommand, "['systemctl', 'restart', 'krb5-kdc']");
  if (typeof s.allowDestroy !== "boolean") c.add("allowDestroy", s.allowDestroy, "must be true or false");
  if (s.otp) {
    if (typeof s.otp.radiusServer !== "string" || !s.otp.radiusServer.startsWith("/")) checkServer(c, "otp.radiusServer", s.otp.radiusServer);
    else c.absPath("otp.radiusServer", s.otp.radiusServer);
    if (typeof s.otp.tokenType !== "string" || !TOKEN_TYPE.test(s.otp.tokenType)) c.add("otp.tokenType", s.otp.tokenType, "must be a name of letters, digits, '_', '-' starting with a letter (a kdc.conf [otp] subsection)");
    c.int("otp.timeoutSeconds", s.otp.timeoutSeconds, 1, 60, "seconds");
    c.int("otp.retries", s.otp.retries, 1, 10);
    c.absPath("otp.secretPath", s.otp.secretPath, "tool");
  }
  if (secrets !== undefined) {
    for (const f of ["masterKey", "adminPassword"] as const) {
      if (secrets[f] === undefined) c.add(f, undefined, "is required (pass it as a pulumi.secret)");
      else c.secret(f, secrets[f], KRB5_PASSWORD_RULES);
    }
    if (s.otp) {
      if (secrets.radiusSecret === undefined) c.add("otp.radiusSecret", undefined, "is required with otp (pass it as a pulumi.secret)");
      else radiusSecretProblems(c, "otp.radiusSecret", secrets.radiusSecret);
    }
  }
  return c.problems;
}
