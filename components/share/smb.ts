/**
 * The SMB leg of HostGuestShare: an `SmbUser` (password to the passdb over stdin) and a hardened
 * `SmbShare` that only that user, from the guest's address, may use; then the guest's SMB3 mount.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { SmbShare, SmbUser } from "../smb";
import { defaultTag, ShareSmbArgs } from "./hostGuestShareArgs";
import { guestMountOf, Leg, LegContext, networkSide } from "./leg";

/** What the SMB leg needs: the share's SMB settings (`ShareSmbArgs`) plus what the share decides. */
export interface SmbLegArgs extends Pick<ShareSmbArgs, "username" | "password" | "server" | "user" | "share"> {
  /** The KVM host the user and share live on (unused when `server` is given). @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The directory shared (the dataset's mountpoint or the given host path). */
  path: pulumi.Input<string>;
  /** The share name (ShareSmbArgs.shareName with its default applied). */
  shareName: string;
  /** The guest's address: the share's only `hosts allow` entry. */
  guestAddress: string;
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

/** The whole SMB leg: user and share, network side, and the guest's mount as that user. */
export function smbShareLeg(ctx: LegContext): Leg {
  const { name, args } = ctx;
  const smb = args.smb!;
  const shareName = smb.shareName ?? defaultTag(name);
  const made = smbLeg(`${name}-share`, { ...smb, connection: args.host, path: ctx.hostPath, shareName, guestAddress: args.guest.address! }, ctx.after());
  ctx.done(made.component);
  const exportPath = pulumi.output(shareName);
  const children = { smbShare: made.component, ...networkSide(ctx, "smb", made.allowedSources) };
  const mount = guestMountOf(ctx, { smb: { ...(smb.mount ?? {}), server: args.serverAddress!, share: exportPath, username: smb.username }, password: smb.password });
  return { exportPath, mount, children };
}
