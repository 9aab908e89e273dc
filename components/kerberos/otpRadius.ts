import * as pulumi from "@pulumi/pulumi";
import { Observed, requiredSecret } from "../../core/component";
import { HostComponent, HostSetupPlan } from "../host";
import { OtpRadiusArgs, OtpRadiusSpec, resolveOtpRadius, validateOtpRadius } from "./otpRadiusArgs";
import { OtpRadiusState } from "./otpRadiusKind";

/** `observed`: what was observed on the host. */
export interface OtpRadius extends Observed<OtpRadiusState> {}

/**
 * The second factor of a Kerberos realm: FreeRADIUS (Debian 12's 3.2 with rlm_totp) checking a
 * password and a TOTP token per user, asked by the KDC's OTP pre-authentication
 * (`KerberosRealm` `otp`). The user types `<password><token>` at kinit's "Enter OTP Token Value"
 * prompt (with FAST armor: `kinit -T <armor ccache>`).
 */
export class OtpRadius extends HostComponent<OtpRadius> {
  /** The user names. */
  public readonly users: string[];
  /** The RADIUS resource, for `dependsOn`. */
  public readonly radiusResource: pulumi.Resource;

  constructor(name: string, args: OtpRadiusArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:kerberos:OtpRadius", name, opts);
    const spec = resolveOtpRadius(name, args);
    this.refuse(validateOtpRadius(spec), requiredSecret("radiusSecret", args.radiusSecret, "(a pulumi.secret)"));
    this.users = spec.users;
    const secrets: Record<string, pulumi.Input<string>> = { radiusSecret: pulumi.secret(args.radiusSecret) };
    for (const u of args.users) {
      secrets[`password:${u.name}`] = pulumi.secret(u.password);
      secrets[`totp:${u.name}`] = pulumi.secret(u.totpSecret);
    }
    const setup: HostSetupPlan = { needs: ["otpRadius"], setting: args.hostSetup, auto: true };
    const { resource } = this.hostResource<OtpRadiusSpec, OtpRadiusState>("OtpRadius", "radius", { connection: args.connection, spec, secrets, setup });
    this.radiusResource = resource;
    this.publish({ observed: resource.observed });
  }
}
