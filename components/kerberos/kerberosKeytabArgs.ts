/**
 * KerberosKeytab: service principals (`host/<fqdn>`, `nfs/<fqdn>`) created with random keys and
 * their keys written to a host's keytab. The args, the resolved spec and validation.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker } from "../../core/validate";
import { samePathProblems } from "../../core/writePaths";
import { checkFqdn, checkPrincipal, checkRealm, KRB5_DEBIAN } from "./krbNames";
import { KRB5_PASSWORD_RULES } from "./kerberosRealmArgs";
import type { KerberosRealm } from "./kerberosRealm";

/** How the keys reach the host. */
export type KeytabVia = "kadmin.local" | "kadmin";

export interface KerberosKeytabArgs {
  /** The host whose keytab gets the keys. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The realm's name, when `realm` is not a `KerberosRealm`. @default `realm.realm` @fieldKind name */
  realmName?: string;
  /** The realm stood up by kvmshare; when this host is its KDC (`via: "kadmin.local"`) its paths are used. @default unset: an existing KDC, `realmName` and `via: "kadmin"` */
  realm?: KerberosRealm;
  /** The host's fully qualified name, as clients reach it (`host/<fqdn>` and `nfs/<fqdn>`). @fieldKind address */
  fqdn: string;
  /** The services whose principals are created (`<service>/<fqdn>`). @default ["host", "nfs"] @fieldKind name */
  services?: string[];
  /**
   * `kadmin.local` (this host is the KDC), or `kadmin` (over the network to the admin server
   * krb5.conf names, as `adminPrincipal` with `adminPassword`; the keys travel inside kadmin's
   * encrypted protocol, never through Pulumi). @default "kadmin.local" with `realm`, else "kadmin"
   */
  via?: KeytabVia;
  /** The admin principal for `via: "kadmin"`. @default "admin/admin" @fieldKind principal */
  adminPrincipal?: string;
  /** Its password (a `pulumi.secret`), for `via: "kadmin"`; answers kadmin's prompt on stdin. @default unset: required with via "kadmin" @fieldKind free secret */
  adminPassword?: pulumi.Input<string>;
  /** The keytab (written 0600). @default "/etc/krb5.keytab" @fieldKind path tool */
  keytabPath?: string;
  /** krb5.conf on this host. @default the realm's, else "/etc/krb5.conf" @fieldKind path file */
  krb5ConfPath?: string;
  /** argv run after keys were added (rpc.gssd and gssproxy read the keytab at start). @default ["systemctl","restart","gssproxy","rpc-gssd"] (rpc-gssd starts only once a keytab exists) @fieldKind free argv */
  reloadCommand?: string[];
}

type KeytabDefaults = "services" | "adminPrincipal" | "keytabPath" | "reloadCommand";

export type KerberosKeytabSpec = Resolved<Pick<KerberosKeytabArgs, "fqdn" | "via" | "krb5ConfPath" | KeytabDefaults>> & {
  realm: string;
  /** The principals, `<service>/<fqdn>` (without realm). */
  principals: string[];
  /** kdc.conf, for `kadmin.local`. */
  kdcConfPath?: string;
};

const DEFAULTS: Defaults<Pick<KerberosKeytabArgs, KeytabDefaults>> = {
  services: ["host", "nfs"],
  adminPrincipal: "admin/admin",
  keytabPath: KRB5_DEBIAN.keytabPath,
  reloadCommand: ["systemctl", "restart", "gssproxy", "rpc-gssd"],
};

export function resolveKerberosKeytab(a: Omit<KerberosKeytabArgs, "connection" | "adminPassword">): KerberosKeytabSpec {
  const d = resolveDefaults({ services: a.services, adminPrincipal: a.adminPrincipal, keytabPath: a.keytabPath, reloadCommand: a.reloadCommand }, DEFAULTS);
  const via = a.via ?? (a.realm ? "kadmin.local" : "kadmin");
  const spec: KerberosKeytabSpec = {
    realm: a.realmName ?? a.realm?.realm ?? "",
    fqdn: a.fqdn,
    via,
    krb5ConfPath: a.krb5ConfPath ?? a.realm?.settings.krb5ConfPath ?? KRB5_DEBIAN.krb5ConfPath,
    principals: (Array.isArray(d.services) ? d.services : []).map((s) => `${s}/${a.fqdn}`),
    ...d,
  };
  if (via === "kadmin.local") spec.kdcConfPath = a.realm?.settings.kdcConfPath ?? KRB5_DEBIAN.kdcConfPath;
  return spec;
}

export function validateKerberosKeytab(s: KerberosKeytabSpec, secrets?: Record<string, unknown>): Problem[] {
  const c = new Checker("KerberosKeytab");
  if (s.realm === "") c.add("realmName", s.realm, "is required: pass realm (a KerberosRealm) or realmName (an existing realm such as 'EXAMPLE.ORG')");
  else checkRealm(c, "realmName", s.realm);
  c.required("fqdn", s.fqdn);
  checkFqdn(c, "fqdn", s.fqdn);
  if (!Array.isArray(s.services) || !s.services.length) c.add("services", s.services, "must list at least one service, e.g. ['host', 'nfs']");
  else s.services.forEach((x, i) => {
    if (typeof x !== "string" || !/^[a-z][a-z0-9-]{0,31}$/.test(x)) c.add(`services[${i}]`, x, "must be a service name such as 'host' or 'nfs' (lowercase letters, digits, '-')");
  });
  s.principals.forEach((p, i) => checkPrincipal(c, `principals[${i}]`, p));
  c.oneOf("via", s.via, ["kadmin.local", "kadmin"]);
  checkPrincipal(c, "adminPrincipal", s.adminPrincipal);
  c.absPath("keytabPath", s.keytabPath, "tool");
  c.absPath("krb5ConfPath", s.krb5ConfPath);
  c.problems.push(...samePathProblems({ krb5ConfPath: s.krb5ConfPath, keytabPath: s.keytabPath }));
  c.argv("reloadCommand", s.reloadCommand, "['systemctl', 'restart', 'gssproxy', 'rpc-gssd']");
  if (secrets !== undefined && s.via === "kadmin") {
    if (secrets.adminPassword === undefined) c.add("adminPassword", undefined, "is required with via: 'kadmin' (pass it as a pulumi.secret)");
    else c.secret("adminPassword", secrets.adminPassword, KRB5_PASSWORD_RULES);
  }
  return c.problems;
}
