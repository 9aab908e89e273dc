import * as pulumi from "@pulumi/pulumi";
import { Observed } from "../../core/component";
import { HostComponent, HostSetupPlan } from "../host";
import { KerberosClientArgs, KerberosClientSpec, resolveKerberosClient, validateKerberosClient } from "./kerberosClientArgs";
import { KerberosClientState } from "./kerberosClientKind";
import { KRB5_DEBIAN } from "./krbNames";

/** `observed`: what was observed on the host (the files' content). */
export interface KerberosClient extends Observed<KerberosClientState> {}

/**
 * A host's part in a Kerberos realm (an NFS server or client): krb5.conf naming the realm's KDCs,
 * the NFSv4 idmapd domain and rpc.gssd's settings. Pass it as `kerberos` to an `NfsExport` or a
 * `GuestMount` with `sec=krb5*`; they refuse krb5 flavours without it.
 */
export class KerberosClient extends HostComponent<KerberosClient> {
  /** The realm (for `NfsExport`/`GuestMount`'s `kerberos` check). */
  public readonly realm: string;
  /** The resolved settings. */
  public readonly settings: KerberosClientSpec;
  /** The config resource, for `dependsOn`. */
  public readonly configResource: pulumi.Resource;

  constructor(name: string, args: KerberosClientArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:kerberos:KerberosClient", name, opts);
    const spec = resolveKerberosClient(name, args);
    this.refuse(validateKerberosClient(spec));
    this.realm = spec.realm;
    this.settings = spec;
    const setup: HostSetupPlan = { needs: ["krb5Client", "nfsClient"], setting: args.hostSetup, auto: spec.krb5ConfPath === KRB5_DEBIAN.krb5ConfPath };
    const { resource } = this.hostResource<KerberosClientSpec, KerberosClientState>("KerberosClient", "config", { connection: args.connection, spec, setup });
    this.configResource = resource;
    this.publish({ observed: resource.observed });
  }
}
