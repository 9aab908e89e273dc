import * as pulumi from "@pulumi/pulumi";
import { HostComponent } from "../host";
import { KerberosOtpUserArgs, KerberosOtpUserSpec, resolveKerberosOtpUser, validateKerberosOtpUser } from "./kerberosOtpUserArgs";
import { KerberosOtpUserState } from "./kerberosOtpUserKind";

/**
 * A user principal that gets a ticket only with password + token: OTP pre-authentication against
 * the realm's RADIUS server (`OtpRadius` holds the password hash and TOTP secret). Created on the
 * realm's KDC with a random key, so a password alone (encrypted timestamp) never works.
 */
export class KerberosOtpUser extends HostComponent<KerberosOtpUser> {
  /** The principal with realm. */
  public readonly principal: string;
  declare public readonly observed: pulumi.Output<KerberosOtpUserState | null>;

  constructor(name: string, args: KerberosOtpUserArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:kerberos:KerberosOtpUser", name, opts);
    const spec = resolveKerberosOtpUser(name, args);
    this.refuse(validateKerberosOtpUser(spec));
    this.principal = `${spec.name}@${spec.realm}`;
    const { resource } = this.hostResource<KerberosOtpUserSpec, KerberosOtpUserState>("KerberosOtpUser", "principal", { connection: args.realm.connection, spec }, { dependsOn: [args.realm.kdcResource] });
    this.publish({ observed: resource.observed });
  }
}
