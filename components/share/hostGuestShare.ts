import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../core/errors";
import { NfsExport } from "../nfs";
import { ShareFirewall } from "../firewall";
import { GuestMount } from "../guest";
import { VirtioFsPassthrough } from "../guest";
import { NetworkTuning } from "../network";
import { ZfsDataset } from "../storage";
import { defaultTag, HostGuestShareArgs, SHARE_DEFAULTS, ShareProtocol, validateHostGuestShare } from "./hostGuestShareArgs";
import { smbLeg } from "./smb";

/**
 * One share between a KVM host and one guest, end to end: a ZFS dataset (or an existing
 * directory) -> an NFS or SMB export to that guest -> optional host network tuning and an
 * nftables allow-list fed by the export's `allowedSources` -> the guest's mount; or dataset ->
 * libvirt virtiofs/9p passthrough -> the guest's mount. Each step is a child component and
 * waits for the one before it.
 */
export class HostGuestShare extends pulumi.ComponentResource {
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
    super("kvmshare:share:HostGuestShare", name, {}, opts);
    const problems = validateHostGuestShare(name, args);
    if (problems.length) throw new ValidationError(`HostGuestShare ${name}`, problems);

    const parent = { parent: this };
    const host = args.host;
    const guest = args.guest;
    const mountPoint = guest.mountPoint ?? `/mnt/${defaultTag(name)}`;
    const before: pulumi.Resource[] = [];

    // 1. Storage: a new dataset, or a directory that exists.
    if (args.dataset) {
      this.dataset = new ZfsDataset(`${name}-dataset`, { ...args.dataset, connection: host }, parent);
      before.push(this.dataset);
    }
    const hostPath: pulumi.Output<string> = this.dataset
      ? this.dataset.mountpoint.apply((m) => {
          if (!m) throw new Error(`HostGuestShare ${name}: dataset ${this.dataset!.datasetName} has no mountpoint to share (set properties.mountpoint)`);
          return m;
        })
      : pulumi.output(args.hostPath as pulumi.Input<string>);
    const after = () => ({ parent: this, dependsOn: [...before] });

    let exportPath: pulumi.Output<string>;
    let mount: GuestMount;
    let restartNeeded: pulumi.Output<boolean> = pulumi.output(false);

    if (args.protocol === "nfs" || args.protocol === "smb") {
      const address = guest.address!;
      let allowedSources: pulumi.Output<string[]>;
      if (args.protocol === "nfs") {
        this.nfsExport = new NfsExport(
          `${name}-export`,
          { access: SHARE_DEFAULTS.nfsAccess, ...(args.nfs?.export ?? {}), connection: host, path: hostPath, clients: [address] },
          after(),
        );
        exportPath = this.nfsExport.mountPath;
        allowedSources = this.nfsExport.allowedSources;
        before.push(this.nfsExport);
      } else {
        const smb = args.smb!;
        const shareName = smb.shareName ?? defaultTag(name);
        const made = smbLeg(`${name}-share`, { ...smb, connection: host, path: hostPath, shareName, guestAddress: address }, after());
        this.smbShare = made.component;
        exportPath = pulumi.output(shareName);
        allowedSources = made.allowedSources;
        before.push(made.component);
      }
      if (args.network) {
        this.networkTuning = new NetworkTuning(`${name}-network`, { ...args.network, connection: host }, parent);
        before.push(this.networkTuning);
      }
      if (args.firewall) {
        const fw = args.firewall === true ? {} : args.firewall;
        this.firewall = new ShareFirewall(`${name}-firewall`, { ...fw, connection: host, services: [args.protocol], allowedSources }, after());
        before.push(this.firewall);
      }
      mount =
        args.protocol === "nfs"
          ? new GuestMount(
              `${name}-guest`,
              {
                ...(guest.mount ?? {}),
                connection: guest.connection,
                where: mountPoint,
                nfs: { nconnect: SHARE_DEFAULTS.nfsConnections, ...(args.nfs?.mount ?? {}), server: args.serverAddress!, exportPath },
              },
              after(),
            )
          : new GuestMount(
              `${name}-guest`,
              {
                ...(guest.mount ?? {}),
                connection: guest.connection,
                where: mountPoint,
                smb: { ...(args.smb!.mount ?? {}), server: args.serverAddress!, share: exportPath, username: args.smb!.username },
                password: args.smb!.password,
              },
              after(),
            );
    } else {
      const { tag: givenTag, filesystem, ninepMount, ...passthrough } = args.virtiofs!;
      const tag = givenTag ?? defaultTag(name);
      const driver = args.protocol === "9p" ? "9p" : "virtiofs";
      this.passthrough = new VirtioFsPassthrough(
        `${name}-passthrough`,
        { ...passthrough, connection: host, filesystems: [{ ...(filesystem ?? {}), source: hostPath, tag, driver }] },
        after(),
      );
      before.push(this.passthrough);
      exportPath = pulumi.output(tag);
      restartNeeded = this.passthrough.restartNeeded;
      mount = new GuestMount(
        `${name}-guest`,
        {
          ...(guest.mount ?? {}),
          connection: guest.connection,
          where: mountPoint,
          ...(driver === "9p" ? { ninep: { ...(ninepMount ?? {}), tag } } : { virtiofs: { tag } }),
        },
        after(),
      );
    }
    this.guestMount = mount;
    this.mountPath = pulumi.output(mountPoint);
    this.exportPath = exportPath;
    this.hostPath = hostPath;
    this.guestUnitName = mount.unitName;
    this.protocol = pulumi.output(args.protocol);
    this.restartNeeded = restartNeeded;
    this.registerOutputs({
      mountPath: this.mountPath,
      exportPath: this.exportPath,
      hostPath: this.hostPath,
      guestUnitName: this.guestUnitName,
      protocol: this.protocol,
      restartNeeded: this.restartNeeded,
    });
  }
}
