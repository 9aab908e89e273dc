/**
 * KerberosClient: the args (declared once, documented), the resolved spec and its validation.
 * A host that takes part in a realm: krb5.conf, the NFSv4 idmapd domain and rpc.gssd settings.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker, isHostname } from "../../core/validate";
import { samePathProblems } from "../../core/writePaths";
import type { HostSetupArgs } from "../host";
import { checkRealm, checkServer, KRB5_DEBIAN } from "./krbNames";

export interface KerberosClientArgs extends HostSetupArgs {
  /** The host. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The realm, uppercase, e.g. `EXAMPLE.ORG` (a `KerberosRealm`'s `realm` output, or an existing KDC's). @fieldKind name */
  realm: string;
  /** The realm's KDCs (`host` or `host:port`), e.g. an existing KDC given by the user. @fieldKind address */
  kdcs: string[];
  /** The admin server(s) (`kadmind`), needed by `KerberosKeytab` in `kadmin` mode. @default the first KDC @fieldKind address */
  adminServers?: string[];
  /** The DNS domain mapped to the realm and the NFSv4 idmapd `Domain`. @default the realm in lowercase @fieldKind name */
  domain?: string;
  /** Where krb5.conf lives. @default "/etc/krb5.conf" @fieldKind path file */
  krb5ConfPath?: string;
  /** The idmapd.conf written (`""`: not written, e.g. a host that is no NFS client or server). @default "/etc/idmapd.conf" @fieldKind path file */
  idmapdConfPath?: string;
  /** The nfs.conf drop-in with rpc.gssd's `[gssd]` settings (`""`: not written). @default "/etc/nfs.conf.d/kvmshare-gssd.conf" @fieldKind path file */
  gssdConfPath?: string;
  /** rpc.gssd gets client credentials through gssproxy (`use-gss-proxy`). @default false: rpc.gssd reads the keytab itself */
  gssdUseGssProxy?: boolean;
  /** argv run after a file changed (idmapd and gssd read their config at start). @default ["systemctl","try-restart","nfs-idmapd","rpc-gssd"] @fieldKind free argv */
  reloadCommand?: string[];
}

type ClientDefaults = "adminServers" | "domain" | "krb5ConfPath" | "idmapdConfPath" | "gssdConfPath" | "gssdUseGssProxy" | "reloadCommand";

/** What the host-side kind gets. */
export type KerberosClientSpec = Resolved<Pick<KerberosClientArgs, "realm" | "kdcs" | ClientDefaults>> & {
  /** The resource name (for the files' headers). */
  name: string;
};

const DEFAULTS: Defaults<Pick<KerberosClientArgs, Exclude<ClientDefaults, "adminServers" | "domain">>> = {
  krb5ConfPath: KRB5_DEBIAN.krb5ConfPath,
  idmapdConfPath: KRB5_DEBIAN.idmapdConfPath,
  gssdConfPath: KRB5_DEBIAN.gssdConfPath,
  gssdUseGssProxy: false,
  reloadCommand: ["systemctl", "try-restart", "nfs-idmapd", "rpc-gssd"],
};

export function resolveKerberosClient(name: string, a: Omit<KerberosClientArgs, "connection" | "hostSetup">): KerberosClientSpec {
  const d = resolveDefaults({ krb5ConfPath: a.krb5ConfPath, idmapdConfPath: a.idmapdConfPath, gssdConfPath: a.gssdConfPath, gssdUseGssProxy: a.gssdUseGssProxy, reloadCommand: a.reloadCommand }, DEFAULTS);
  const kdcs = Array.isArray(a.kdcs) ? a.kdcs : [];
  return {
    name,
    realm: a.realm,
    kdcs,
    adminServers: a.adminServers ?? kdcs.slice(0, 1),
    domain: a.domain ?? (typeof a.realm === "string" ? a.realm.toLowerCase() : a.realm),
    ...d,
  };
}

export function validateKerberosClient(s: KerberosClientSpec): Problem[] {
  const c = new Checker("KerberosClient");
  checkRealm(c, "realm", s.realm);
  c.required("realm", s.realm);
  if (!Array.isArray(s.kdcs) || s.kdcs.length === 0) c.add("kdcs", s.kdcs, "must list at least one KDC ('host' or 'host:port'), e.g. the KerberosRealm's host or your existing KDC");
  else s.kdcs.forEach((k, i) => checkServer(c, `kdcs[${i}]`, k));
  if (!Array.isArray(s.adminServers)) c.add("adminServers", s.adminServers, "must be a list of 'host' or 'host:port'");
  else s.adminServers.forEach((k, i) => checkServer(c, `adminServers[${i}]`, k));
  if (typeof s.domain !== "string" || !isHostname(s.domain)) c.add("domain", s.domain, "must be a DNS domain such as 'example.org' (the NFSv4 idmapd Domain; the same on server and clients)");
  c.absPath("krb5ConfPath", s.krb5ConfPath);
  if (s.idmapdConfPath !== "") c.absPath("idmapdConfPath", s.idmapdConfPath);
  if (s.gssdConfPath !== "") c.absPath("gssdConfPath", s.gssdConfPath);
  c.problems.push(...samePathProblems({ krb5ConfPath: s.krb5ConfPath, idmapdConfPath: s.idmapdConfPath, gssdConfPath: s.gssdConfPath }));
  if (typeof s.gssdUseGssProxy !== "boolean") c.add("gssdUseGssProxy", s.gssdUseGssProxy, "must be true or false");
  c.argv("reloadCommand", s.reloadCommand, "['systemctl', 'try-restart', 'rpc-gssd']");
  return c.problems;
}
