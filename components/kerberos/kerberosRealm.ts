import * as pulumi from "@pulumi/pulumi";
import { requiredSecret } from "../../core/component";
import { HostComponent, HostSetupPlan } from "../host";
import { KerberosRealmArgs, KerberosRealmSpec, resolveKerberosRealm, validateKerberosRealm } from "./kerberosRealmArgs";
import { KerberosRealmState } from "./kerberosRealmKind";
import { KRB5_DEBIAN } from "./krbNames";

/**
 * A small site's own Kerberos realm on an MIT KDC: kdc.conf, kadm5.acl, the database (master key
 * from a Pulumi secret), the admin principal (password from a Pulumi secret) and, with `otp`, the
 * KDC's OTP pre-authentication against RADIUS (the second factor; see `OtpRadius`). Sites with a
 * KDC already skip this and point `KerberosClient` at theirs.
 */
export class KerberosRealm extends HostComponent<KerberosRealm> {
  /** The realm name. */
  public readonly realm: string;
  /** The resolved settings (paths, for `KerberosKeytab`/`KerberosOtpUser` on the same host). */
  public readonly settings: KerberosRealmSpec;
  /** The KDC's connection. */
  public readonly connection: KerberosRealmArgs["connection"];
  /** The KDC resource, for `dependsOn`. */
  public readonly kdcResource: pulumi.Resource;
  /** What was observed (config files, database and admin present; never a key). */
  declare public readonly observed: pulumi.Output<KerberosRealmState | null>;

  constructor(name: string, args: KerberosRealmArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:kerberos:KerberosRealm", name, opts);
    const spec = resolveKerberosRealm(name, args);
    this.refuse(
      validateKerberosRealm(spec),
      requiredSecret("masterKey", args.masterKey),
      requiredSecret("adminPassword", args.adminPassword),
      requiredSecret("otp.radiusSecret", args.otp?.radiusSecret, "with otp (a pulumi.secret, the same as the OtpRadius's)", args.otp !== undefined),
    );
    this.realm = spec.realm;
    this.settings = spec;
    this.connection = args.connection;
    const secrets: Record<string, pulumi.Input<string>> = { masterKey: pulumi.secret(args.masterKey), adminPassword: pulumi.secret(args.adminPassword) };
    if (args.otp) secrets.radiusSecret = pulumi.secret(args.otp.radiusSecret);
    const setup: HostSetupPlan = { needs: ["krb5Kdc"], setting: args.hostSetup, auto: spec.kdcConfPath === KRB5_DEBIAN.kdcConfPath };
    const { resource } = this.hostResource<KerberosRealmSpec, KerberosRealmState>("KerberosRealm", "kdc", { connection: args.connection, spec, secrets, setup });
    this.kdcResource = resource;
    this.publish({ observed: resource.observed });
  }
}
