/**
 * The SMB leg of HostGuestShare: an `SmbUser` (password to the passdb over stdin) and a hardened
 * `SmbShare` that only that user, from the guest's address, may use.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { SambaServer, SmbShare, SmbShareArgs, SmbUser, SmbUserArgs } from "../smb";

export interface SmbLegArgs {
  connection?: pulumi.Input<ConnectionSpec>;
  path: pulumi.Input<string>;
  shareName: string;
  username: string;
  password: pulumi.Input<string>;
  guestAddress: string;
  /** A SambaServer component: its connection/config are used for the user and the share. */
  server?: SambaServer;
  /** Extra SmbUser args (e.g. configPath). */
  user?: Partial<SmbUserArgs>;
  /** Extra SmbShare args (e.g. sharesDir, reloadCommand, readOnly). */
  share?: Partial<SmbShareArgs>;
}

/** Create the user and the share; the share waits for the user. */
export function smbLeg(name: string, a: SmbLegArgs, opts: pulumi.ComponentResourceOptions) {
  const where = a.server ? { server: a.server } : { connection: a.connection };
  const user = new SmbUser(`${name}-user`, { ...a.user, ...where, userName: a.username, password: a.password }, opts);
  const component = new SmbShare(
    name,
    { ...a.share, ...where, path: a.path, shareName: a.shareName, validUsers: [user], hostsAllow: [a.guestAddress] },
    { ...opts, dependsOn: [...((opts.dependsOn as pulumi.Resource[] | undefined) ?? []), user] },
  );
  return { component, user, allowedSources: component.allowedSources };
}
