/**
 * OtpRadius: FreeRADIUS as the KDC's second factor. The args, the resolved spec and validation.
 * Users enter `<password><6-digit TOTP>` at kinit's OTP prompt; this server checks both.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker, SecretRules } from "../../core/validate";
import { checkRadiusUser, isUnspecifiedAddress } from "../../core/reserved";
import { anyHostReason } from "../../core/clients";
import type { HostSetupArgs } from "../host";
import { radiusSecretProblems } from "./kerberosRealmArgs";

/** One user: the password and TOTP secret are Pulumi secrets. */
export interface OtpRadiusUser {
  /** The user name (the `KerberosOtpUser`'s `radiusUser`, by default its principal). @fieldKind user */
  name: string;
  /** The password (a `pulumi.secret`); stored as a salted SHA-512 hash. @fieldKind free secret */
  password: pulumi.Input<string>;
  /** The TOTP secret in base32 (RFC 6238, 30 s, 6 digits, SHA-1: what authenticator apps take), a `pulumi.secret`. @fieldKind free secret */
  totpSecret: pulumi.Input<string>;
}

export interface OtpRadiusArgs extends HostSetupArgs {
  /** The RADIUS host (usually the KDC). @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The users allowed a ticket. */
  users: OtpRadiusUser[];
  /** The shared secret with the KDC (a `pulumi.secret`; the same as the `KerberosRealm`'s `otp.radiusSecret`). @fieldKind free secret */
  radiusSecret: pulumi.Input<string>;
  /** Addresses of the KDCs that may ask. @default ["127.0.0.1"] @fieldKind address */
  kdcAddresses?: string[];
  /** Address to listen on. @default "127.0.0.1" @fieldKind address */
  listenAddress?: string;
  /** UDP port. @default 1812 */
  port?: number;
  /** The private FreeRADIUS config directory (radiusd.conf, clients.conf, users). @default "/etc/freeradius/kvmshare" @fieldKind path dir */
  configDir?: string;
  /** Where its pid file goes. @default "/run/freeradius" @fieldKind path dir */
  runDir?: string;
  /** The systemd unit written for it (`""`: none, the caller runs `freeradius -f -d <configDir>`). @default "/etc/systemd/system/kvmshare-otp-radius.service" @fieldKind path unitFile */
  unitPath?: string;
  /** argv lists run after a change. @default daemon-reload, then enable --now and restart kvmshare-otp-radius @fieldKind free argv */
  restartCommands?: string[][];
}

type RadiusDefaults = "kdcAddresses" | "listenAddress" | "port" | "configDir" | "runDir" | "unitPath" | "restartCommands";

export type OtpRadiusSpec = Resolved<Pick<OtpRadiusArgs, RadiusDefaults>> & {
  name: string;
  /** The user names (their secrets travel as `password:<name>` and `totp:<name>`). */
  users: string[];
};

const DEFAULTS: Defaults<Pick<OtpRadiusArgs, RadiusDefaults>> = {
  kdcAddresses: ["127.0.0.1"],
  listenAddress: "127.0.0.1",
  port: 1812,
  configDir: "/etc/freeradius/kvmshare",
  runDir: "/run/freeradius",
  unitPath: "/etc/systemd/system/kvmshare-otp-radius.service",
  restartCommands: [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "kvmshare-otp-radius.service"], ["systemctl", "restart", "kvmshare-otp-radius.service"]],
};

export function resolveOtpRadius(name: string, a: Omit<OtpRadiusArgs, "connection" | "hostSetup" | "radiusSecret" | "users"> & { users: { name: string }[] }): OtpRadiusSpec {
  // Only the spec's own fields: the shared secret, user secrets and the connection stay out.
  const pick: Partial<Pick<OtpRadiusArgs, RadiusDefaults>> = {};
  for (const k of Object.keys(DEFAULTS) as RadiusDefaults[]) (pick as Record<string, unknown>)[k] = (a as Record<string, unknown>)[k];
  return { name, users: (Array.isArray(a.users) ? a.users : []).map((u) => u?.name), ...resolveDefaults(pick, DEFAULTS) };
}

export const otpRadiusPaths = (s: OtpRadiusSpec) => ({
  conf: path.posix.join(s.configDir, "radiusd.conf"),
  clients: path.posix.join(s.configDir, "clients.conf"),
  users: path.posix.join(s.configDir, "users"),
});

/** The password a user types before the token: RADIUS carries at most 128 bytes, 6 go to the token. */
export const OTP_PASSWORD_RULES: SecretRules = { maxBytes: 120, why: "RADIUS User-Password is at most 128 bytes and the 6-digit token follows the password" };
const BASE32 = /^[A-Z2-7]{16,128}=*$/;
const USER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateOtpRadius(s: OtpRadiusSpec, secrets?: Record<string, unknown>): Problem[] {
  const c = new Checker("OtpRadius");
  if (!Array.isArray(s.users) || !s.users.length) c.add("users", s.users, "must list at least one user ({ name, password, totpSecret })");
  else {
    const seen = new Set<string>();
    s.users.forEach((u, i) => {
      if (typeof u !== "string" || !USER.test(u)) c.add(`users[${i}].name`, u, "must be a user name of letters, digits, '._-' (at most 64)");
      else if (seen.has(u)) c.add(`users[${i}].name`, u, "is listed twice; list each user once");
      else checkRadiusUser(c, `users[${i}].name`, u);
      seen.add(u);
      if (secrets !== undefined) {
        const pw = secrets[`password:${u}`];
        if (pw === undefined) c.add(`users[${i}].password`, undefined, "is required (a pulumi.secret)");
        else c.secret(`users[${i}].password`, pw, OTP_PASSWORD_RULES);
        const t = secrets[`totp:${u}`];
        if (t === undefined) c.add(`users[${i}].totpSecret`, undefined, "is required (a pulumi.secret, base32)");
        else if (typeof t === "string" && !BASE32.test(t)) c.add(`users[${i}].totpSecret`, undefined, "must be base32 (A-Z, 2-7; at least 16 characters = 80 bits), as authenticator apps take it; e.g. from 'head -c 20 /dev/urandom | base32'");
      }
    });
  }
  if (!Array.isArray(s.kdcAddresses) || !s.kdcAddresses.length) c.add("kdcAddresses", s.kdcAddresses, "must list at least one KDC address");
  else {
    s.kdcAddresses.forEach((a, i) => {
      // clients.conf has require_message_authenticator = no (MIT's otp plugin sends none): open to
      // every address, any host that guessed the secret could forge answers (Blast-RADIUS).
      const any = anyHostReason(a) ?? (isUnspecifiedAddress(a) ? "the unspecified address" : undefined);
      if (any) c.add(`kdcAddresses[${i}]`, a, `opens RADIUS to every address (${any}) while message-authenticator checks are off (MIT's otp plugin sends none), so any host could try the shared secret and forge answers; list the KDCs' addresses, e.g. '10.0.0.5' or '127.0.0.1'`);
      else c.cidr(`kdcAddresses[${i}]`, a);
    });
  }
  c.cidr("listenAddress", s.listenAddress);
  if (typeof s.listenAddress === "string" && s.listenAddress.includes("/")) c.add("listenAddress", s.listenAddress, "must be one address, not a network");
  c.port("port", s.port);
  c.absPath("configDir", s.configDir, "dir");
  c.absPath("runDir", s.runDir, "dir");
  if (s.unitPath !== "") c.absPath("unitPath", s.unitPath, "unitFile");
  for (const f of ["configDir", "runDir", "unitPath"] as const) {
    if (typeof s[f] === "string" && /[\s"'\\$;{}#=]/.test(s[f])) c.add(f, s[f], "must not contain spaces, quotes, '$', ';', '=', braces or '#' (FreeRADIUS and systemd read it unquoted)");
  }
  if (!Array.isArray(s.restartCommands)) c.add("restartCommands", s.restartCommands, "must be a list of argv arrays, e.g. [['systemctl', 'restart', 'kvmshare-otp-radius']]");
  else s.restartCommands.forEach((a, i) => c.argv(`restartCommands[${i}]`, a, "['systemctl', 'restart', 'kvmshare-otp-radius']"));
  if (secrets !== undefined) {
    if (secrets.radiusSecret === undefined) c.add("radiusSecret", undefined, "is required (a pulumi.secret, the same as the KerberosRealm's otp.radiusSecret)");
    else radiusSecretProblems(c, "radiusSecret", secrets.radiusSecret);
  }
  return c.problems;
}
