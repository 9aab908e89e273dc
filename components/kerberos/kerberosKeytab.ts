import * as pulumi from "@pulumi/pulumi";
import { Observed, requiredSecret } from "../../core/component";
import { HostComponent } from "../host";
import { KerberosKeytabArgs, KerberosKeytabSpec, resolveKerberosKeytab, validateKerberosKeytab } from "./kerberosKeytabArgs";
import { KerberosKeytabState } from "./kerberosKeytabKind";

/** `observed`: what was observed on the host (principals and key versions; never keys). */
export interface KerberosKeytab extends Observed<KerberosKeytabState> {}

/**
 * A host's keytab with its service principals (`host/<fqdn>`, `nfs/<fqdn>`): what an NFS server
 * (gssproxy) and an NFS client (rpc.gssd) need for `sec=krb5*`, and what a user's `kinit -T`
 * takes its FAST armor from. Keys go from the KDC into the keytab by kadmin, never through Pulumi.
 */
export class KerberosKeytab extends HostComponent<KerberosKeytab> {
  /** The principals (with realm) written to the keytab. */
  public readonly principals: string[];
  /** The keytab resource, for `dependsOn`. */
  public readonly keytabResource: pulumi.Resource;

  constructor(name: string, args: KerberosKeytabArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:kerberos:KerberosKeytab", name, opts);
    const spec = resolveKerberosKeytab(args);
    this.refuse(validateKerberosKeytab(spec), requiredSecret("adminPassword", args.adminPassword, "with via: 'kadmin' (a pulumi.secret)", spec.via === "kadmin"));
    this.principals = spec.principals.map((p) => `${p}@${spec.realm}`);
    const connection = args.connection ?? (spec.via === "kadmin.local" ? args.realm?.connection : undefined);
    const secrets = args.adminPassword !== undefined ? { adminPassword: pulumi.secret(args.adminPassword) } : undefined;
    const { resource } = this.hostResource<KerberosKeytabSpec, KerberosKeytabState>("KerberosKeytab", "keytab", { connection, spec, secrets }, { dependsOn: args.realm ? [args.realm.kdcResource] : [] });
    this.keytabResource = resource;
    this.publish({ observed: resource.observed });
  }
}
