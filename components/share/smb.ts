/**
 * The SMB leg of HostGuestShare goes through the exports area's `SmbShare` component. It is looked
 * up at run time so this area builds while that component is being written; a program that asks
 * for protocol "smb" without it gets a clear error before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";

export interface SmbLegArgs {
  connection?: pulumi.Input<unknown>;
  path: pulumi.Input<string>;
  shareName: string;
  username: string;
  password: pulumi.Input<string>;
  guestAddress: string;
  [k: string]: unknown;
}

export type SmbLeg = (
  name: string,
  args: SmbLegArgs,
  opts: pulumi.ComponentResourceOptions,
) => { component: pulumi.ComponentResource; allowedSources: pulumi.Output<string[]> };

/** The SmbShare constructor adapted to HostGuestShare, or a clear error when it is not available. */
export function smbShareFactory(): SmbLeg {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require("../exports") as Record<string, unknown>;
  const SmbShare = mod.SmbShare as (new (n: string, a: Record<string, unknown>, o: pulumi.ComponentResourceOptions) => pulumi.ComponentResource & { allowedSources?: pulumi.Output<string[]> }) | undefined;
  if (!SmbShare) {
    throw new Error("HostGuestShare: protocol 'smb' needs the SmbShare component from components/exports, which this build does not include yet; use protocol 'nfs' or 'virtiofs'");
  }
  return (name, a, opts) => {
    const { path, shareName, username, password, guestAddress, ...rest } = a;
    const component = new SmbShare(name, { ...rest, path, shareName, users: [{ name: username, password }], hostsAllow: [guestAddress] }, opts);
    return { component, allowedSources: component.allowedSources ?? pulumi.output([guestAddress]) };
  };
}
