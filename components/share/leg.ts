/**
 * What HostGuestShare's legs share: each protocol has one small leg (`nfs.ts`, `smb.ts`,
 * `passthrough.ts`) that makes its export and the guest's mount; the share's constructor makes
 * the storage and picks the leg. Each child waits for the ones made before it.
 */
import * as pulumi from "@pulumi/pulumi";
import { ShareFirewall } from "../firewall";
import { GuestMount, VirtioFsPassthrough } from "../guest";
import type { NfsExport } from "../nfs";
import { NetworkTuning } from "../network";
import type { HostGuestShareArgs } from "./hostGuestShareArgs";

/** GuestMount's arguments. */
type GuestMountInput = ConstructorParameters<typeof GuestMount>[1];

/** What a leg is given by the share. */
export interface LegContext {
  /** The share's name (children are `${name}-<role>`). */
  name: string;
  args: HostGuestShareArgs;
  /** The share itself, parent of every child. */
  parent: pulumi.Resource;
  /** The shared directory on the host. */
  hostPath: pulumi.Output<string>;
  /** The mount point in the guest. */
  mountPoint: string;
  /** Options for the next child: the share as parent, after every child made so far. */
  after(): pulumi.ComponentResourceOptions;
  /** Record a child the later ones wait for; returns it. */
  done<R extends pulumi.Resource>(child: R): R;
}

/** The children a leg may make (the share exposes them). */
export interface LegChildren {
  nfsExport?: NfsExport;
  smbShare?: pulumi.ComponentResource;
  networkTuning?: NetworkTuning;
  firewall?: ShareFirewall;
  passthrough?: VirtioFsPassthrough;
}

/** What a leg gives back. */
export interface Leg {
  /** What the guest mounts: the NFS export path, the SMB share name, or the virtiofs/9p tag. */
  exportPath: pulumi.Output<string>;
  mount: GuestMount;
  /** virtiofs/9p: the VM must be power-cycled to see the share. @default false */
  restartNeeded?: pulumi.Output<boolean>;
  children: LegChildren;
}

/** Host network tuning and the firewall fed by the export's allowed sources (nfs and smb). */
export function networkSide(ctx: LegContext, service: "nfs" | "smb", allowedSources: pulumi.Output<string[]>): LegChildren {
  const { name, args } = ctx;
  const made: LegChildren = {};
  if (args.network) made.networkTuning = ctx.done(new NetworkTuning(`${name}-network`, { ...args.network, connection: args.host }, { parent: ctx.parent }));
  if (args.firewall) {
    const fw = args.firewall === true ? {} : args.firewall;
    made.firewall = ctx.done(new ShareFirewall(`${name}-firewall`, { ...fw, connection: args.host, services: [service], allowedSources }, ctx.after()));
  }
  return made;
}

/** The guest's mount of `source` (nfs, smb with its password, virtiofs or 9p). */
export function guestMountOf(ctx: LegContext, source: Omit<GuestMountInput, "where">): GuestMount {
  const guest = ctx.args.guest;
  return new GuestMount(`${ctx.name}-guest`, { ...(guest.mount ?? {}), connection: guest.connection, where: ctx.mountPoint, ...source }, ctx.after());
}
