/**
 * HostGuestShare's arguments, defaults and validation (pure), kept apart from the component so
 * they can be tested and reused. The parts that are another component's own settings are that
 * component's Args (picked or omitted), never a copy of its fields.
 */
import * as pulumi from "@pulumi/pulumi";
import * as net from "net";
import { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { anyHostProblem, clientKind } from "../../core/clients";
import { Checker, isHostname, isUnknown, UNKNOWN } from "../../core/validate";
import type { NfsExportArgs } from "../nfs";
import type { SambaServer, SmbShareArgs, SmbUserArgs } from "../smb";
import type { ShareFirewallArgs } from "../firewall";
import type { GuestMountArgs, MountSource, NfsMountArgs, NinePMountArgs, SmbMountArgs } from "../guest";
import type { SharedFilesystemArgs, VirtioFsPassthroughArgs } from "../guest";
import type { NetworkTuningArgs } from "../network";
import type { ZfsDatasetArgs } from "../storage";

export type ShareProtocol = "nfs" | "smb" | "virtiofs" | "9p";
export const PROTOCOLS: readonly ShareProtocol[] = ["nfs", "smb", "virtiofs", "9p"];

/** The guest's side of a share: how to reach it, its address, and where it mounts. */
export interface ShareGuestArgs {
  /** How kvmshare reaches the guest to install the mount (usually SSH). @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /**
   * The guest's address as the host sees it: the NFS client / SMB `hosts allow` entry and the
   * firewall's allowed source (an IP or CIDR, or a host name for NFS). Required for nfs and smb.
   * @default unset: only valid for virtiofs/9p (no network between host and guest)
   * @fieldKind address
   */
  address?: string;
  /** Mount point in the guest. @default "/mnt/<component name>" @fieldKind path tree */
  mountPoint?: string;
  /** GuestMount settings (automount, activation, style, root, readOnly, options...). @default GuestMount's defaults */
  mount?: Omit<GuestMountArgs, "connection" | "where" | "password" | MountSource>;
}

/** NFS settings of a share: the export's and the guest mount's, besides what the share sets. */
export interface ShareNfsArgs {
  /** NfsExport settings besides path and clients. @default kernel backend, `access: "rw"` (a share is for exchanging files) */
  export?: Omit<NfsExportArgs, "connection" | "path" | "clients">;
  /** Guest NFS mount settings besides server and path. @default NFSv4.2, `nconnect: 4`, hard, timeo=600 */
  mount?: Omit<NfsMountArgs, "server" | "exportPath">;
  /**
   * RPC-with-TLS for the share: the export lets the guest in only with this policy
   * (`xprtsec=tls` or `xprtsec=mtls`) and the guest mounts with it. Needs a `Tlshd` on the host
   * and on the guest (see `Tlshd`), Linux >= 6.5 and nfs-utils >= 2.6.3.
   * @default unset: no TLS (neither `export.xprtsec` nor `mount.xprtsec` set)
   */
  xprtsec?: "tls" | "mtls";
}

/** SMB settings of a share: the user, the share, and the guest mount. */
export interface ShareSmbArgs {
  /** Share name. @default the component name @fieldKind name */
  shareName?: string;
  /** The user the guest connects as (must exist as an SMB user on the host). @fieldKind name */
  username: string;
  /** Its password (a pulumi secret): written to the guest's 0600 credentials file. @fieldKind free secret */
  password: pulumi.Input<string>;
  /** Guest SMB mount settings besides server, share, user. @default SMB 3.1.1 with seal */
  mount?: Omit<SmbMountArgs, "server" | "share" | "username">;
  /** A `SambaServer` component the user and share belong to (its connection and config are used). @default none: `host` and SmbShare's defaults */
  server?: SambaServer;
  /** Further `SmbUser` arguments (e.g. `configPath`). @default its defaults */
  user?: Partial<SmbUserArgs>;
  /** Further `SmbShare` arguments (e.g. `readOnly`, `sharesDir`, `reloadCommand`, `extraParameters`). @default its defaults */
  share?: Partial<SmbShareArgs>;
}

/**
 * virtiofs/9p settings of a share: the libvirt domain and its pinning are VirtioFsPassthrough's
 * own fields (`domain`, `uri`, `vcpuPins`, `emulatorPin`, `numaTune`, documented there).
 */
export interface ShareVirtioFsArgs extends Pick<VirtioFsPassthroughArgs, "domain" | "uri" | "vcpuPins" | "emulatorPin" | "numaTune"> {
  /** Tag the guest mounts. @default the component name (letters, digits, '_', '.', '-'; cut to 36) @fieldKind name */
  tag?: string;
  /** virtiofs/9p details of the `<filesystem>` (cache, xattr, locks, queue, threads, accessMode for 9p). @default libvirt's */
  filesystem?: Omit<SharedFilesystemArgs, "source" | "tag" | "driver">;
  /** 9p guest mount settings. @default 9p2000.L, msize 256 KiB, cache=mmap */
  ninepMount?: Omit<NinePMountArgs, "tag">;
}

/** One share between a KVM host and one guest, end to end. */
export interface HostGuestShareArgs {
  /** The KVM host: dataset, export, tuning, firewall and libvirt live there. @default this machine */
  host?: pulumi.Input<ConnectionSpec>;
  /** How the guest reaches the data: NFS, SMB3, virtiofs or 9p. */
  protocol: ShareProtocol;
  /** A ZFS dataset created for the share; its mountpoint is what is shared. Exactly one of `dataset` and `hostPath`. @default unset: `hostPath` is shared instead */
  dataset?: Omit<ZfsDatasetArgs, "connection">;
  /** An existing directory on the host to share instead of a new dataset. @default unset: the new `dataset` is shared @fieldKind path tree */
  hostPath?: pulumi.Input<string>;
  /** The guest side. */
  guest: ShareGuestArgs;
  /** The host's address as the guest sees it (NFS/SMB server), e.g. `192.168.122.1`. Required for nfs and smb. @default unset: only valid for virtiofs/9p @fieldKind address */
  serverAddress?: pulumi.Input<string>;
  /** NFS settings (protocol `nfs`). @default see ShareNfsArgs */
  nfs?: ShareNfsArgs;
  /** SMB settings (protocol `smb`; required there for the user). @default unset: only valid for nfs, virtiofs and 9p */
  smb?: ShareSmbArgs;
  /** virtiofs/9p settings (protocol `virtiofs` or `9p`; required there for the domain). @default unset: only valid for nfs and smb */
  virtiofs?: ShareVirtioFsArgs;
  /** Host network tuning (sysctl, MTU, shaping, ethtool) for NFS/SMB; refused for virtiofs/9p. @default none */
  network?: Omit<NetworkTuningArgs, "connection">;
  /**
   * nftables allow-list so only this guest reaches the share's port (nfs 2049 / smb 445). `true`
   * uses ShareFirewall's defaults; the allowed sources always come from the export. Refused for virtiofs/9p.
   * @default false (no firewall changes)
   */
  firewall?: boolean | Omit<ShareFirewallArgs, "connection" | "allowedSources" | "services">;
}

/** The defaults HostGuestShare applies over its children's own (`access: "rw"` on the export, `nconnect: 4` on the NFS mount). */
export const SHARE_DEFAULTS = {
  nfsAccess: "rw",
  nfsConnections: 4,
} as const;

/** Forbidden combinations: one row each. */
const FORBIDDEN: { field: string; when: (a: HostGuestShareArgs) => boolean; message: string }[] = [
  { field: "network", when: (a) => !!a.network && (a.protocol === "virtiofs" || a.protocol === "9p"), message: "does not affect virtiofs/9p (no network between host and guest): remove it" },
  { field: "firewall", when: (a) => !!a.firewall && (a.protocol === "virtiofs" || a.protocol === "9p"), message: "virtiofs/9p open no network port: remove it" },
  { field: "nfs", when: (a) => !!a.nfs && a.protocol !== "nfs", message: "only applies to protocol 'nfs'" },
  { field: "smb", when: (a) => !!a.smb && a.protocol !== "smb", message: "only applies to protocol 'smb'" },
  { field: "virtiofs", when: (a) => !!a.virtiofs && a.protocol !== "virtiofs" && a.protocol !== "9p", message: "only applies to protocols 'virtiofs' and '9p'" },
];

/** A plain string, undefined, or UNKNOWN for an Input not resolved yet. */
const plainOrUnknown = (v: unknown) => (typeof v === "string" ? v : v === undefined ? undefined : UNKNOWN);

/** The tag used for virtiofs/9p when none is given: the name, reduced to what libvirt accepts. */
export function defaultTag(name: string): string {
  const t = name.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 36);
  return t || "share";
}

/** Every problem with the arguments (pure; Inputs not known yet are skipped). */
export function validateHostGuestShare(name: string, a: HostGuestShareArgs): Problem[] {
  const c = new Checker(`HostGuestShare ${name}`);
  c.required("protocol", a.protocol).oneOf("protocol", a.protocol, PROTOCOLS);
  if ((a.dataset === undefined) === (a.hostPath === undefined)) {
    c.add("dataset|hostPath", undefined, "set exactly one: dataset (a new ZFS dataset) or hostPath (an existing directory)");
  }
  if (typeof a.hostPath === "string") c.absPath("hostPath", a.hostPath, "tree");
  if (!a.guest) c.add("guest", undefined, "is required (at least { address } for nfs/smb, or {} for virtiofs/9p)");
  const g = a.guest ?? {};
  if (g.mountPoint !== undefined) c.absPath("guest.mountPoint", g.mountPoint, "tree");
  const networked = a.protocol === "nfs" || a.protocol === "smb";
  if (networked) {
    c.required("guest.address", g.address);
    if (typeof g.address === "string" && !isUnknown(g.address)) {
      const k = clientKind(g.address);
      const ok = k === "ip" || k === "cidr" || k === "any" || (a.protocol === "nfs" && k === "hostname");
      if (!ok) c.add("guest.address", g.address, a.protocol === "nfs" ? "must be an IP, a CIDR or a host name" : "must be an IP or a CIDR");
      if (k === "any") {
        const [flag, set] = a.protocol === "nfs" ? ["nfs.export.allowAnyClient", a.nfs?.export?.allowAnyClient] : ["smb.share.allowAnyClient", a.smb?.share?.allowAnyClient];
        if (set !== true) c.problems.push(anyHostProblem("guest.address", g.address, flag));
        else if (a.firewall && (typeof a.firewall !== "object" || a.firewall.allowAnySource !== true)) {
          c.problems.push(anyHostProblem("guest.address", g.address, "firewall.allowAnySource"));
        }
      }
    }
    c.required("serverAddress", a.serverAddress);
    const s = plainOrUnknown(a.serverAddress);
    if (s !== undefined && !isUnknown(s) && !(net.isIP(s) || isHostname(s))) c.add("serverAddress", s, "must be the host's IP or host name as the guest sees it");
  }
  if (a.protocol === "smb" && !a.smb) c.add("smb", undefined, "is required for protocol 'smb' ({ username, password })");
  if ((a.protocol === "virtiofs" || a.protocol === "9p") && !a.virtiofs) {
    c.add("virtiofs", undefined, `is required for protocol '${a.protocol}' ({ domain }: the libvirt domain to pass the directory to)`);
  }
  if (a.virtiofs?.tag !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/.test(a.virtiofs.tag)) {
    c.add("virtiofs.tag", a.virtiofs.tag, "must be 1-36 letters, digits, '_', '.', '-'");
  }
  for (const row of FORBIDDEN) if (row.when(a)) c.add(row.field, undefined, row.message);
  const x = a.nfs?.xprtsec;
  if (x !== undefined) {
    c.oneOf("nfs.xprtsec", x, ["tls", "mtls"]);
    for (const [f, v] of [["nfs.export.xprtsec", a.nfs?.export?.xprtsec], ["nfs.mount.xprtsec", a.nfs?.mount?.xprtsec]] as const) {
      if (v !== undefined) c.add(f, v, `is set by nfs.xprtsec (${JSON.stringify(x)}) for both ends; remove it`);
    }
  }
  return c.problems;
}
