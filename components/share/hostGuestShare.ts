import * as pulumi from "@pulumi/pulumi";
import { Component } from "../../core/component";
import type { NfsExport } from "../nfs";
import type { ShareFirewall } from "../firewall";
import type { GuestMount, VirtioFsPassthrough } from "../guest";
import type { NetworkTuning } from "../network";
import { ZfsDataset } from "../storage";
import { defaultTag, HostGuestShareArgs, ShareProtocol, validateHostGuestShare } from "./hostGuestShareArgs";
import { Leg, LegContext } from "./leg";
import { nfsLeg } from "./nfs";
import { passthroughLeg } from "./passthrough";
import { smbShareLeg } from "./smb";

/** One leg per protocol. */
const LEGS: Record<ShareProtocol, (ctx: LegContext) => Leg> = { nfs: nfsLeg, smb: smbShareLeg, virtiofs: passthroughLeg, "9p": passthroughLeg };

/**
 * One share between a KVM host and one guest, end to end: a ZFS dataset (or an existing
 * directory) -> an NFS or SMB export to that guest -> optional host network tuning and an
 * nftables allow-list fed by the export's `allowedSources` -> the guest's mount; or dataset ->
 * libvirt virtiofs/9p passthrough -> the guest's mount. Each step is a child component and
 * waits for the one before it.
 */
export class HostGuestShare extends Component<HostGuestShare> {
  /** The mount point in the guest. */
  declare public readonly mountPath: pulumi.Output<string>;
  /** What the guest mounts: the NFS export path, the SMB share name, or the virtiofs/9p tag. */
  declare public readonly exportPath: pulumi.Output<string>;
  /** The shared directory on the host. */
  declare public readonly hostPath: pulumi.Output<string>;
  /** The guest's unit to watch (`mnt-x.mount` or `.automount`). */
  declare public readonly guestUnitName: pulumi.Output<string>;
  /** The protocol. */
  declare public readonly protocol: pulumi.Output<ShareProtocol>;
  /** virtiofs/9p: the VM runs an older definition and must be power-cycled to see the share. */
  declare public readonly restartNeeded: pulumi.Output<boolean>;

  /** The children, for `dependsOn` and their own outputs. */
  public readonly dataset?: ZfsDataset;
  public readonly nfsExport?: NfsExport;
  public readonly smbShare?: pulumi.ComponentResource;
  public readonly networkTuning?: NetworkTuning;
  public readonly firewall?: ShareFirewall;
  public readonly passthrough?: VirtioFsPassthrough;
  public readonly guestMount: GuestMount;

  constructor(name: string, args: HostGuestShareArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:share:HostGuestShare", name, opts);
    this.refuse(validateHostGuestShare(name, args));
    const before: pulumi.Resource[] = [];

    // 1. Storage: a new dataset, or a directory that exists.
    if (args.dataset) {
      this.dataset = new ZfsDataset(`${name}-dataset`, { ...args.dataset, connection: args.host }, { parent: this });
      before.push(this.dataset);
    }
    const dataset = this.dataset;
    const hostPath: pulumi.Output<string> = dataset
      ? dataset.mountpoint.apply((m) => {
          if (!m) throw new Error(`HostGuestShare ${name}: dataset ${dataset.datasetName} has no mountpoint to share (set properties.mountpoint)`);
          return m;
        })
      : pulumi.output(args.hostPath as pulumi.Input<string>);

    // 2. The protocol's leg: its export (and network side), then the guest's mount.
    const mountPoint = args.guest.mountPoint ?? `/mnt/${defaultTag(name)}`;
    const leg = LEGS[args.protocol]({
      name,
      args,
      parent: this,
      hostPath,
      mountPoint,
      after: () => ({ parent: this, dependsOn: [...before] }),
      done: (child) => (before.push(child), child),
    });
    Object.assign(this, leg.children);
    this.guestMount = leg.mount;
    this.publish({
      mountPath: pulumi.output(mountPoint),
      exportPath: leg.exportPath,
      hostPath,
      guestUnitName: leg.mount.unitName,
      protocol: pulumi.output(args.protocol),
      restartNeeded: leg.restartNeeded ?? pulumi.output(false),
    });
  }
}
