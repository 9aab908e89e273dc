/**
 * KerberosOtpUser: a user principal that gets tickets only through OTP pre-authentication
 * (RFC 6560). The args, the resolved spec and validation.
 */
import { Problem } from "../../core/errors";
import { Checker } from "../../core/validate";
import { checkRadiusUser } from "../../core/reserved";
import { checkPrincipal, checkRealm, TOKEN_TYPE } from "./krbNames";
import type { KerberosRealm } from "./kerberosRealm";

export interface KerberosOtpUserArgs {
  /** The realm (its KDC host and paths are used; it must have `otp` set). */
  realm: KerberosRealm;
  /** The principal name without realm, e.g. `alice`. @default the resource name @fieldKind principal */
  principal?: string;
  /** The user name RADIUS checks (an `OtpRadius` user). @default the principal name @fieldKind user */
  radiusUser?: string;
}

export type KerberosOtpUserSpec = {
  realm: string;
  /** The principal (resolved `principal`). */
  name: string;
  radiusUser: string;
  /** The realm's `[otp]` token type. */
  tokenType: string;
  krb5ConfPath: string;
  kdcConfPath: string;
};

export function resolveKerberosOtpUser(name: string, a: KerberosOtpUserArgs): KerberosOtpUserSpec {
  const principal = a.principal ?? name;
  return {
    realm: a.realm.realm,
    name: principal,
    radiusUser: a.radiusUser ?? principal,
    tokenType: a.realm.settings.otp?.tokenType ?? "",
    krb5ConfPath: a.realm.settings.krb5ConfPath,
    kdcConfPath: a.realm.settings.kdcConfPath,
  };
}

export function validateKerberosOtpUser(s: KerberosOtpUserSpec): Problem[] {
  const c = new Checker("KerberosOtpUser");
  checkRealm(c, "realm", s.realm);
  c.required("principal", s.name);
  checkPrincipal(c, "principal", s.name);
  if (typeof s.radiusUser !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s.radiusUser)) c.add("radiusUser", s.radiusUser, "must be a user name of letters, digits, '._-' (at most 64)")
  else checkRadiusUser(c, "radiusUser", s.radiusUser);
  if (s.tokenType === "") c.add("realm", s.realm, "has no OTP configured: set otp: { radiusServer, radiusSecret } on the KerberosRealm (an OTP user with no token type could never get a ticket)");
  else if (!TOKEN_TYPE.test(s.tokenType)) c.add("realm.otp.tokenType", s.tokenType, "must be a token type name");
  return c.problems;
}
