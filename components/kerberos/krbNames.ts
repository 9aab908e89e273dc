/**
 * Kerberos names and the Debian facts of MIT krb5 (paths, services), checked once here for every
 * component of the area: realms, principals, token types, and the quoting `kadmin`'s command
 * parser (the ss library) takes.
 */
import { Checker, isHostname, isUnknown, MAX_PORT, MIN_PORT, REALM } from "../../core/validate";
import { checkReservedPrincipal, isUnspecifiedAddress } from "../../core/reserved";
export { checkRealm, REALM } from "../../core/validate";

/** Where Debian 12's MIT krb5 packages keep things. */
export const KRB5_DEBIAN = {
  krb5ConfPath: "/etc/krb5.conf",
  kdcConfPath: "/etc/krb5kdc/kdc.conf",
  databasePath: "/var/lib/krb5kdc/principal",
  stashPath: "/etc/krb5kdc/stash",
  aclPath: "/etc/krb5kdc/kadm5.acl",
  radiusSecretPath: "/etc/krb5kdc/kvmshare-radius.secret",
  keytabPath: "/etc/krb5.keytab",
  idmapdConfPath: "/etc/idmapd.conf",
  gssdConfPath: "/etc/nfs.conf.d/kvmshare-gssd.conf",
  kdcServices: ["krb5-kdc", "krb5-admin-server"],
} as const;


/** One component of a principal name (`host`, `nfs.example.org`, `alice`). */
const PRINCIPAL_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A token type name (a `[otp]` subsection of kdc.conf). */
export const TOKEN_TYPE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;


/**
 * Check a principal name without realm (`alice`, `host/nfs.example.org`, `admin/admin`); with
 * `allowRealm`, `name@REALM` is taken too.
 */
export function checkPrincipal(c: Checker, field: string, v: unknown, allowRealm = false): void {
  if (v === undefined || isUnknown(v)) return;
  if (typeof v !== "string") return void c.add(field, v, "must be a principal name such as 'alice' or 'host/nfs.example.org'");
  const [name, realm, ...rest] = v.split("@");
  const parts = name.split("/");
  const ok = rest.length === 0 && parts.length <= 3 && parts.every((p) => PRINCIPAL_PART.test(p)) && (realm === undefined || (allowRealm && REALM.test(realm)));
  if (!ok) {
    c.add(field, v, `must be a principal name: 1-3 '/'-separated parts of letters, digits, '._-'${allowRealm ? ", optionally '@REALM'" : " (no '@REALM': the realm is set separately)"}; e.g. 'alice' or 'nfs/server.example.org'`);
  } else checkReservedPrincipal(c, field, v);
}

/** Check a fully qualified host name (what `host/<fqdn>` and `nfs/<fqdn>` principals name). */
export function checkFqdn(c: Checker, field: string, v: unknown): void {
  if (v === undefined || isUnknown(v)) return;
  if (typeof v !== "string" || !isHostname(v) || !v.includes(".")) c.add(field, v, "must be a fully qualified host name such as 'nfs.example.org' (the name clients use to reach the server; it must resolve to it)");
  else if (v !== v.toLowerCase()) c.add(field, v, `must be lowercase (service principals name hosts in lowercase); use '${v.toLowerCase()}'`);
}

/** `host:port` or `host` of a KDC / admin server / RADIUS server. */
export function checkServer(c: Checker, field: string, v: unknown): void {
  if (v === undefined || isUnknown(v)) return;
  const m = typeof v === "string" ? /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(v) : null;
  const host = m?.[1].replace(/^\[|\]$/g, "");
  if (!m || !host || !(isHostname(host) || /^[0-9a-fA-F:.]+$/.test(host)) || (m[2] !== undefined && (Number(m[2]) < MIN_PORT || Number(m[2]) > MAX_PORT))) {
    c.add(field, v, "must be a host name or address with an optional port, e.g. 'kdc.example.org' or '10.0.0.5:88'");
  } else if (isUnspecifiedAddress(host)) c.add(field, v, "is the unspecified address (every interface), not a server; write the server's own address or name, e.g. '10.0.0.5:88'");
}

/**
 * One argument as kadmin's command parser (the ss library) takes it: inside double quotes, a
 * double quote doubled. Values are validated first; this keeps even a JSON string attribute intact.
 */
export function kadminArg(v: string): string {
  return `"${v.replace(/"/g, '""')}"`;
}

/** A kadmin command line from its words (every word quoted). */
export function kadminLine(words: string[]): string {
  return words.map(kadminArg).join(" ");
}

/** Environment that points MIT's tools at non-default config files (private test paths). */
export function krb5Env(krb5ConfPath: string, kdcConfPath?: string): Record<string, string> | undefined {
  const env: Record<string, string> = {};
  if (krb5ConfPath !== KRB5_DEBIAN.krb5ConfPath) env.KRB5_CONFIG = krb5ConfPath;
  if (kdcConfPath !== undefined && kdcConfPath !== KRB5_DEBIAN.kdcConfPath) env.KRB5_KDC_PROFILE = kdcConfPath;
  return Object.keys(env).length ? env : undefined;
}
