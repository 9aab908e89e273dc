import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { GuestMountState } from "./guestMountKind";
import { Inputs, knownNow } from "./inputs";
import { OptionValue } from "./mountOptions";
import { unitNames } from "./mountPlan";
import { Activation, GuestMountSpec, MountStyle, NfsMountSpec, NinePMountSpec, SmbMountSpec, validateGuestMount, VirtioFsMountSpec } from "./guestMountArgs";

export interface GuestMountArgs {
  /** The guest to configure (usually `{ kind: "ssh", ... }`). @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Mount point in the guest, e.g. `/mnt/share`; the unit name derives from it (`mnt-share.mount`). */
  where: pulumi.Input<string>;
  /** An NFS mount (NFSv4.2, hard, timeo=600, retrans=2, sec=sys unless set). */
  nfs?: Inputs<NfsMountSpec>;
  /** An SMB3 mount (3.1.1 with `seal` unless set); the password goes in `password`. */
  smb?: Inputs<SmbMountSpec>;
  /** The SMB password: written to the root-only 0600 credentials file, never on a command line or in state in plain text. */
  password?: pulumi.Input<string>;
  /** A virtiofs mount of a libvirt `<filesystem>` tag. */
  virtiofs?: Inputs<VirtioFsMountSpec>;
  /** A 9p (virtio) mount of a libvirt `<filesystem>` tag. */
  ninep?: Inputs<NinePMountSpec>;
  /** Mount read-only. @default false */
  readOnly?: pulumi.Input<boolean>;
  /** Further mount options, checked against a per-type table (unknown ones are refused). @default {} */
  options?: Record<string, OptionValue>;
  /** systemd `.mount` units, or a managed block in `/etc/fstab`. @default "systemd" */
  style?: MountStyle;
  /** Mount on first access (an `.automount` unit / `x-systemd.automount`). @default false */
  automount?: boolean;
  /** Idle seconds before an automount is unmounted (0: never). @default 600 */
  automountIdleSec?: number;
  /** `start` (daemon-reload, enable, start), `enable` (offline enable only) or `none` (files only). @default "start" */
  activation?: Activation;
  /** Alternate filesystem root for every file (image builds, sandboxes); needs activation `enable` or `none`. @default "/" */
  root?: string;
  /** Unit file directory (below `root`). @default "/etc/systemd/system" */
  unitDir?: string;
  /** fstab path for `style: "fstab"` (below `root`). @default "/etc/fstab" */
  fstabPath?: string;
  /** Run `systemd-analyze verify` on the units before installing them. @default true */
  verify?: boolean;
  /** Unit `Description=`. @default "kvmshare <type> mount of <source>" */
  description?: string;
  /** Seconds systemd waits for the mount (`TimeoutSec=`). @default 90 */
  timeoutSec?: number;
}

/**
 * A mount inside a guest: NFS, SMB3, virtiofs or 9p, as systemd units (or an fstab entry),
 * checked by `systemd-analyze verify` before they are installed; SMB passwords go to a root-only
 * 0600 credentials file. Hand edits of the units are reported as drift.
 */
export class GuestMount extends pulumi.ComponentResource {
  /** The unit to watch (`.automount` when automount, else `.mount`), e.g. `mnt-share.mount`. */
  declare public readonly unitName: pulumi.Output<string>;
  /** The `.mount` unit's name. */
  declare public readonly mountUnit: pulumi.Output<string>;
  /** The mount point. */
  declare public readonly where: pulumi.Output<string>;
  /** What is mounted (`server:/path`, `//server/share`, or the tag). */
  declare public readonly what: pulumi.Output<string>;
  /** What was observed in the guest at the last apply/refresh. */
  declare public readonly observed: pulumi.Output<GuestMountState | null>;

  constructor(name: string, args: GuestMountArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:guest:GuestMount", name, {}, opts);
    const spec = {
      where: args.where,
      nfs: args.nfs,
      smb: args.smb,
      virtiofs: args.virtiofs,
      ninep: args.ninep,
      readOnly: args.readOnly,
      options: args.options,
      style: args.style,
      automount: args.automount,
      automountIdleSec: args.automountIdleSec,
      activation: args.activation,
      root: args.root,
      unitDir: args.unitDir,
      fstabPath: args.fstabPath,
      verify: args.verify,
      description: args.description,
      timeoutSec: args.timeoutSec,
    };
    for (const k of Object.keys(spec) as (keyof typeof spec)[]) if (spec[k] === undefined) delete spec[k];
    const problems = validateGuestMount(knownNow(spec) as unknown as GuestMountSpec);
    if (args.smb && args.password === undefined) problems.push({ field: "password", message: "is required for an SMB mount (use a pulumi secret)" });
    if (!args.smb && args.password !== undefined) problems.push({ field: "password", message: "only applies to smb mounts; remove it" });
    if (problems.length) throw new ValidationError(`GuestMount ${name}`, problems);

    const res = new HostResource<GuestMountSpec, GuestMountState>(
      "GuestMount",
      require.resolve("./guestMountKind"),
      `${name}-mount`,
      {
        connection: args.connection,
        spec: pulumi.output(spec) as unknown as pulumi.Output<GuestMountSpec>,
        secrets: args.password !== undefined ? { password: args.password } : undefined,
      },
      // The host resource waits for what the component waits for (an export, a firewall).
      { parent: this, dependsOn: opts.dependsOn },
      ["unitName", "mountUnit", "automountUnit", "what"],
    );
    const out = res as unknown as { unitName: pulumi.Output<string>; mountUnit: pulumi.Output<string>; what: pulumi.Output<string> };
    this.where = pulumi.output(args.where);
    this.unitName = pulumi.output(args.where).apply((w) => unitNames(w, args.automount === true).primaryUnit);
    this.mountUnit = pulumi.output(args.where).apply((w) => unitNames(w).mountUnit);
    this.what = out.what;
    this.observed = res.observed;
    this.registerOutputs({ unitName: this.unitName, mountUnit: this.mountUnit, where: this.where, what: this.what, observed: this.observed });
  }
}
