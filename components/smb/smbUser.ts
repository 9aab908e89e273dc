import * as pulumi from "@pulumi/pulumi";
import { requiredSecret } from "../../core/component";
import { HostComponent } from "../host";
import { resolveSmbUser, SmbUserArgs, SmbUserSpec, validateSmbUser } from "./smbUserArgs";
import { SmbUserState } from "./smbUserKind";

/**
 * A Samba user in the server's passdb, password set with `smbpasswd -s` over stdin. A user
 * removed, disabled or given another password by hand is reported as drift after refresh.
 */
export class SmbUser extends HostComponent<SmbUser> {
  /** The user name (for a share's `validUsers`). */
  public readonly userName: string;
  /** The passdb resource, for `dependsOn`. */
  public readonly userResource: pulumi.Resource;
  /** What was observed (presence, enabled, whether the password is the declared one; never a hash). */
  declare public readonly observed: pulumi.Output<SmbUserState | null>;

  constructor(name: string, args: SmbUserArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:SmbUser", name, opts);
    const spec = resolveSmbUser(name, args);
    this.refuse(validateSmbUser(spec), requiredSecret("password", args.password));
    this.userName = spec.name;
    const { resource } = this.hostResource<SmbUserSpec, SmbUserState>(
      "SmbUser",
      "user",
      { connection: args.server?.connection ?? args.connection, spec, secrets: { password: pulumi.secret(args.password) }, setup: args.server?.hostSetup },
      { dependsOn: args.server ? [args.server.configResource] : [] },
    );
    this.userResource = resource;
    this.publish({ observed: resource.observed });
  }
}
