/**
 * The SMB leg of HostGuestShare: an `SmbUser` (password to the passdb over stdin) and a hardened
 * `SmbShare` that only that user, from the guest's address, may use. The exports area's
 * components are looked up at run time, so a build without them still compiles and a program
 * asking for protocol "smb" gets a clear error before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";

export interface SmbLegArgs {
  connection?: pulumi.Input<unknown>;
  path: pulumi.Input<string>;
  shareName: string;
  username: string;
  password: pulumi.Input<string>;
  guestAddress: string;
  /** A SambaServer component: its connection/config are used for the user and the share. */
  server?: unknown;
  /** Extra SmbUser args (e.g. configPath). */
  user?: Record<string, unknown>;
  /** Extra SmbShare args (e.g. sharesDir, reloadCommand, readOnly). */
  share?: Record<string, unknown>;
}

export type SmbLeg = (
  name: string,
  args: SmbLegArgs,
  opts: pulumi.ComponentResourceOptions,
) => { component: pulumi.ComponentResource; user: pulumi.ComponentResource; allowedSources: pulumi.Output<string[]> };

type Ctor = new (n: string, a: Record<string, unknown>, o: pulumi.ComponentResourceOptions) => pulumi.ComponentResource & {
  allowedSources?: pulumi.Output<string[]>;
};

/** SmbUser + SmbShare adapted to HostGuestShare, or a clear error when they are not available. */
export function smbShareFactory(): SmbLeg {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require("../exports") as Record<string, unknown>;
  const SmbShare = mod.SmbShare as Ctor | undefined;
  const SmbUser = mod.SmbUser as Ctor | undefined;
  if (!SmbShare || !SmbUser) {
    throw new Error("HostGuestShare: protocol 'smb' needs SmbShare and SmbUser from components/exports, which this build does not include; use protocol 'nfs' or 'virtiofs'");
  }
  return (name, a, opts) => {
    const where = a.server ? { server: a.server } : { connection: a.connection };
    const user = new SmbUser(`${name}-user`, { ...(a.user ?? {}), ...where, userName: a.username, password: a.password }, opts);
    const component = new SmbShare(
      name,
      { ...(a.share ?? {}), ...where, path: a.path, shareName: a.shareName, validUsers: [user], hostsAllow: [a.guestAddress] },
      { ...opts, dependsOn: [...((opts.dependsOn as pulumi.Resource[] | undefined) ?? []), user] },
    );
    return { component, user, allowedSources: component.allowedSources ?? pulumi.output([a.guestAddress]) };
  };
}
