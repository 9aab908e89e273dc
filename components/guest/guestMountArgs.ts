/**
 * GuestMount's arguments, declared once (`GuestMountArgs` and its nested mount sources), the
 * kind's spec derived from them, the defaults table, and validation. Pure: runs in the
 * component's constructor and again in the provider's `check`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as net from "net";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker, isHostname, isUnknown, LINE_BREAKING, MAX_ID, secretProblems, SecretRules } from "../../core/validate";
import { Inputs } from "./inputs";
import { MountType, OptionValue, validateExtraOptions } from "./mountOptions";
import { pathEscapeProblem, UNIT_NAME_MAX, escapePath, simplifyPath } from "./systemdEscape";
import { writePathProblem } from "../../core/writePaths";
import type { HostSetupArgs } from "../host";
import { checkRealm } from "../../core/validate";
import { NFS_SEC } from "../../core/nfs";
import { Activation, ACTIVATIONS } from "../../core/systemdUnits";
import type { MountHealthCheckArgs } from "./mountHealth";

export type { MountType } from "./mountOptions";

/** NFS client mount (kernel `nfs`, NFSv4.x by default). */
export interface NfsMountArgs {
  /** Server address or host name (from the guest's point of view); an IPv6 server is bracketed in `What=`. @fieldKind address */
  server: string;
  /** Path exported by the server, e.g. `/tank/share`. @fieldKind path read */
  exportPath: string;
  /** NFS protocol version (`vers=`). @default "4.2" */
  version?: "3" | "4" | "4.0" | "4.1" | "4.2";
  /** TCP connections to the server (`nconnect=`, 1-16, Linux 5.3+). @default unset: no `nconnect=`, the kernel uses 1 */
  nconnect?: number;
  /** Read size in bytes (`rsize=`; a multiple of 1024, 4096 to 1048576). @default unset: negotiated with the server */
  rsizeBytes?: number;
  /** Write size in bytes (`wsize=`; a multiple of 1024, 4096 to 1048576). @default unset: negotiated with the server */
  wsizeBytes?: number;
  /** `hard` (retry forever, no silent data loss) or `soft`; `false` (soft) only with `readOnly`: soft read-write mounts lose writes on timeouts. @default true */
  hard?: boolean;
  /** RPC timeout in tenths of a second (`timeo=`, 10-6000; 600 = 60 s). @default 600 */
  timeoDeciseconds?: number;
  /** Retries before a major timeout (`retrans=`, 0-10). @default 2 */
  retrans?: number;
  /** Security flavours (`sec=`): `sys`, `krb5`, `krb5i`, `krb5p`, or a colon-separated list like `krb5i:krb5p`; krb5* needs `kerberosRealm`. @default "sys" @fieldKind name */
  sec?: string;
  /** Server port (`port=`). @default unset: no `port=`, the client uses 2049 */
  port?: number;
  /**
   * RPC-with-TLS (RFC 9289, `xprtsec=`): `tls` (encrypted, the server's certificate checked
   * against the guest's `Tlshd` `client.trustedCa`) or `mtls` (the guest presents its own
   * certificate too: `Tlshd` `client.certificate`/`privateKey`). Needs NFS 4.x (v3's side
   * protocols MOUNT, NLM and rpcbind are not carried over TLS), Linux >= 6.5 with
   * CONFIG_NET_HANDSHAKE and `tlshd` on the guest; combines with any `sec` (krb5p over TLS is allowed).
   * @default unset: no `xprtsec=` option (the kernel's default: no TLS)
   */
  xprtsec?: "tls" | "mtls";
  /**
   * The Kerberos realm of this guest: the `realm` of the `KerberosClient` on the guest, whose
   * `KerberosKeytab` gives rpc.gssd its `host/<fqdn>` key. Required for `sec` krb5, krb5i or
   * krb5p. @default unset: no Kerberos; only `sec: "sys"`
   * @fieldKind name
   */
  kerberosRealm?: string;
}

/** SMB3 client mount (kernel `cifs`). The password comes from `secrets.password`. */
export interface SmbMountArgs {
  /** Server address or host name. @fieldKind address */
  server: string;
  /** Share name, e.g. `data`. @fieldKind name */
  share: string;
  /** User name written to the credentials file. @fieldKind name */
  username: string;
  /** Domain/workgroup written to the credentials file. @default unset: no `domain=` line (the server's own domain) @fieldKind name */
  domain?: string;
  /** SMB dialect (`vers=`); only SMB3 dialects are accepted. @default "3.1.1" */
  version?: "3.1.1" | "3.02" | "3.0";
  /** Require SMB3 encryption (`seal`). @default true */
  seal?: boolean;
  /** Server port (`port=`). @default unset: no `port=`, the client uses 445 */
  port?: number;
  /** Owner of the files as the guest sees them (`uid=`). @default unset: no `uid=` (files show as uid 0) */
  uid?: number;
  /** Group of the files (`gid=`). @default unset: no `gid=` (files show as gid 0) */
  gid?: number;
  /** `file_mode=`, octal. @default unset: no `file_mode=` (cifs uses 0755) @fieldKind free */
  fileMode?: string;
  /** `dir_mode=`, octal. @default unset: no `dir_mode=` (cifs uses 0755) @fieldKind free */
  dirMode?: string;
  /** Where the root-owned 0600 credentials file goes. @default `/etc/kvmshare/<unit name>.cred` @fieldKind path tool */
  credentialsFile?: string;
}

/** virtiofs mount of a libvirt/QEMU `<filesystem>` tag. */
export interface VirtioFsMountArgs {
  /** The tag (`<target dir='...'/>` in the domain XML). @fieldKind name */
  tag: string;
}

/** 9p (virtio transport) mount of a libvirt/QEMU `<filesystem>` tag. */
export interface NinePMountArgs {
  /** The mount tag (`<target dir='...'/>`). @fieldKind name */
  tag: string;
  /** 9p protocol (`version=`). @default "9p2000.L" */
  version?: "9p2000.L" | "9p2000.u";
  /** Maximum message size in bytes (`msize=`); the virtio transport may cap it. @default 262144 */
  msizeBytes?: number;
  /** Client cache mode (`cache=`). @default "mmap" (coherent with the host, allows mmap) */
  cache?: "none" | "loose" | "fscache" | "mmap";
}


export type MountStyle = "systemd" | "fstab";
export type { Activation };

/** One mount in a guest. Exactly one of nfs/smb/virtiofs/ninep. */
export interface GuestMountArgs {
  /** The guest to configure (usually `{ kind: "ssh", ... }`). @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Mount point in the guest, e.g. `/mnt/share`; the unit name derives from it (`mnt-share.mount`). @fieldKind path tree */
  where: pulumi.Input<string>;
  /** An NFS mount (NFSv4.2, hard, timeo=600, retrans=2, sec=sys unless set). @default unset: not an NFS mount (set exactly one of nfs, smb, virtiofs, ninep) */
  nfs?: Inputs<NfsMountArgs>;
  /** An SMB3 mount (3.1.1 with `seal` unless set); the password goes in `password`. @default unset: not an SMB mount */
  smb?: Inputs<SmbMountArgs>;
  /**
   * The SMB password: written to the root-only 0600 credentials file, never on a command line or
   * in state in plain text. Required with `smb`, refused otherwise.
   * @default unset: no credentials file (only valid without `smb`)
   * @fieldKind free secret
   */
  password?: pulumi.Input<string>;
  /** A virtiofs mount of a libvirt `<filesystem>` tag. @default unset: not a virtiofs mount */
  virtiofs?: Inputs<VirtioFsMountArgs>;
  /** A 9p (virtio) mount of a libvirt `<filesystem>` tag. @default unset: not a 9p mount */
  ninep?: Inputs<NinePMountArgs>;
  /** Mount read-only. @default false */
  readOnly?: pulumi.Input<boolean>;
  /** Further mount options, checked against a per-type table (unknown ones are refused with the list of known ones); `true` = a flag without value. @default {} (none beyond the typed fields) @fieldKind free */
  options?: Record<string, OptionValue>;
  /** systemd `.mount` units, or a managed block in fstab. @default "systemd" */
  style?: MountStyle;
  /** Mount on first access through an `.automount` unit (`x-systemd.automount` in fstab). @default false */
  automount?: boolean;
  /** Unmount after this many idle seconds when `automount` (0: never). @default 600 */
  automountIdleSec?: number;
  /**
   * What to do after the files are written: `start` = daemon-reload, enable and start (restart
   * when the unit changed); `enable` = enable only (works offline, with `root`); `none` = write files only.
   * @default "start"
   */
  activation?: Activation;
  /**
   * An alternate filesystem root that every file goes under (unit dir, fstab, credentials), as
   * `systemctl --root` does. For building images and sandboxes; implies no running systemd
   * there, so it needs activation `enable` or `none`.
   * @default "/" (the guest itself)
   * @fieldKind path dir
   */
  root?: string;
  /** Where unit files go (below `root`). @default "/etc/systemd/system" @fieldKind path unitDir */
  unitDir?: string;
  /** The fstab file for `style: "fstab"` (below `root`). @default "/etc/fstab" @fieldKind path file */
  fstabPath?: string;
  /** Check units with `systemd-analyze verify` before installing them. @default true */
  verify?: boolean;
  /** `Description=` of the unit. @default "kvmshare <type> mount of <what>" @fieldKind free */
  description?: string;
  /** Seconds systemd waits for the mount (`TimeoutSec=`). @default 90 */
  timeoutSec?: number;
}

/** The fields that say what is mounted (exactly one is set). */
export type MountSource = "nfs" | "smb" | "virtiofs" | "ninep";
export const MOUNT_SOURCES: readonly MountSource[] = ["nfs", "smb", "virtiofs", "ninep"];

/**
 * The GuestMount kind's spec: the args without the connection and the password (that one goes
 * in `secrets`), every Input as its plain value, the mount source objects included.
 */
export type GuestMountSpec = Plain<Omit<GuestMountArgs, "connection" | "password" | MountSource>> & {
  [K in MountSource]?: Plain<NonNullable<GuestMountArgs[K]>>;
};

/** Fields without a default (unset stays unset) or with one derived from other fields. */
type NfsKeep = "nconnect" | "rsizeBytes" | "wsizeBytes" | "port" | "kerberosRealm" | "xprtsec";
type SmbKeep = "domain" | "port" | "uid" | "gid" | "fileMode" | "dirMode" | "credentialsFile";
type MountKeep = MountSource | "description";

/** GuestMount's defaults (the `@default`s above); `description` and `smb.credentialsFile` derive from other fields. */
export const GUEST_MOUNT_DEFAULTS: Defaults<GuestMountSpec, MountKeep> = {
  readOnly: false,
  options: {},
  style: "systemd",
  automount: false,
  automountIdleSec: 600,
  activation: "start",
  root: "/",
  unitDir: "/etc/systemd/system",
  fstabPath: "/etc/fstab",
  verify: true,
  timeoutSec: 90,
};
export const NFS_MOUNT_DEFAULTS: Defaults<NfsMountArgs, NfsKeep> = { version: "4.2", hard: true, timeoDeciseconds: 600, retrans: 2, sec: "sys" };
export const SMB_MOUNT_DEFAULTS: Defaults<SmbMountArgs, SmbKeep> = { version: "3.1.1", seal: true };
export const NINEP_MOUNT_DEFAULTS: Defaults<NinePMountArgs> = { version: "9p2000.L", msizeBytes: 262144, cache: "mmap" };
/** Where the SMB credentials files go when `smb.credentialsFile` is not set. */
export const CREDENTIALS_DIR = "/etc/kvmshare";

/** A spec with every default filled in, the mount source's own defaults too (what the plan renders). */
export type ResolvedGuestMount = Omit<Resolved<GuestMountSpec, MountKeep>, MountSource> & {
  nfs?: Resolved<NfsMountArgs, NfsKeep>;
  smb?: Resolved<SmbMountArgs, SmbKeep>;
  virtiofs?: VirtioFsMountArgs;
  ninep?: Resolved<NinePMountArgs>;
};

/** Fill in every default (pure); the spec itself stays as given, so state and diffs do not change. */
export function resolveGuestMount(spec: GuestMountSpec): ResolvedGuestMount {
  const { nfs: _nfs, smb: _smb, ninep: _ninep, ...rest } = resolveDefaults<GuestMountSpec, MountKeep>(spec, GUEST_MOUNT_DEFAULTS);
  const r: ResolvedGuestMount = rest;
  if (spec.nfs) r.nfs = resolveDefaults<NfsMountArgs, NfsKeep>(spec.nfs, NFS_MOUNT_DEFAULTS);
  if (spec.smb) r.smb = resolveDefaults<SmbMountArgs, SmbKeep>(spec.smb, SMB_MOUNT_DEFAULTS);
  if (spec.ninep) r.ninep = resolveDefaults<NinePMountArgs>(spec.ninep, NINEP_MOUNT_DEFAULTS);
  return r;
}

/** The mount's type, from which of nfs/smb/virtiofs/ninep is set. */
export function mountType(spec: Pick<GuestMountSpec, MountSource>): MountType | undefined {
  if (spec.nfs) return "nfs";
  if (spec.smb) return "smb";
  if (spec.virtiofs) return "virtiofs";
  if (spec.ninep) return "9p";
  return undefined;
}

export const NFS_VERSIONS = ["3", "4", "4.0", "4.1", "4.2"] as const;
/** The `nfs.xprtsec` values (a mount asks for one policy; `none` is the kernel's default). */
export const NFS_MOUNT_XPRTSEC = ["tls", "mtls"] as const;
export const SMB_VERSIONS = ["3.1.1", "3.02", "3.0"] as const;
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/;
const SHARE = /^[^\\/:*?"<>|\x00-\x1f\x7f-\x9f\u2028\u2029]{1,80}$/;
/**
 * What mount.cifs (cifs-utils 7.0, Debian 12) takes from a credentials file, measured: a
 * password of up to 512 bytes once each ',' is doubled for the kernel's option string (513+
 * "Converted password too long!"); user and domain names are cut at 256 bytes without a word.
 */
export const CIFS_PASSWORD_RULES: SecretRules = { maxBytes: 512, why: "mount.cifs takes at most 512 bytes, each ',' counting twice" };
export const CIFS_NAME_MAX_BYTES = 256;

/**
 * Problems with a GuestMount's password (in `secrets`, checked by the provider's check at
 * preview): required with `smb` (and refused otherwise), one line, no NUL or control characters,
 * within mount.cifs's limit. The password never reaches a message. `secrets` undefined: not
 * known yet, not checked.
 */
export function guestMountSecretProblems(spec: Pick<GuestMountSpec, "smb">, secrets: Record<string, unknown> | undefined, prefix = ""): Problem[] {
  if (secrets === undefined || isUnknown(secrets)) return [];
  const field = `${prefix}password`;
  const pw = secrets.password;
  if (!spec.smb) return pw === undefined ? [] : [{ field, message: "only applies to smb mounts; remove it" }];
  if (pw === undefined) return [{ field, message: "is required for an SMB mount (use a pulumi secret)" }];
  const out = secretProblems(field, pw, CIFS_PASSWORD_RULES);
  if (!out.length && typeof pw === "string" && !isUnknown(pw) && Buffer.byteLength(pw, "utf8") + pw.split(",").length - 1 > CIFS_PASSWORD_RULES.maxBytes) {
    out.push({ field, message: `is longer than ${CIFS_PASSWORD_RULES.maxBytes} bytes once its commas are doubled (${CIFS_PASSWORD_RULES.why}); use a shorter one` });
  }
  return out;
}

function isServer(v: string): boolean {
  return net.isIP(v) !== 0 || isHostname(v);
}

function known(v: unknown): boolean {
  return v !== undefined && !isUnknown(v);
}

/** A string that goes verbatim into a unit file or fstab: no newlines, no trailing backslash. */
function lineSafe(c: Checker, field: string, v: string | undefined): void {
  if (!known(v)) return;
  if (typeof v !== "string") c.add(field, v, "must be a string");
  else if (LINE_BREAKING.test(v)) c.add(field, v, "must not contain line breaks, NUL or other control characters");
  // Trailing slashes count too: a path is written without them (found by the property test: `/mnt/\\/`).
  else if (/\\[\s/]*$/.test(v)) c.add(field, v, "must not end with a backslash, even before trailing spaces or slashes (systemd reads it as a line continuation)");
}

/**
 * Forbidden combinations: one row each, with the message users get.
 * (linux-system-roles/storage's UNSUPPORTED_COMBOS pattern.)
 */
const FORBIDDEN: { field: string; when: (s: GuestMountSpec) => boolean; value: (s: GuestMountSpec) => unknown; message: string }[] = [
  {
    field: "activation",
    when: (s) => (s.activation ?? "start") === "start" && !!s.root && s.root !== "/",
    value: (s) => s.activation ?? "start (default)",
    message: "cannot be 'start' with an alternate root (no systemd runs there): use 'enable' (offline, systemctl --root) or 'none'",
  },
  {
    field: "nfs.nconnect",
    when: (s) => !!s.nfs && known(s.nfs.nconnect) && (s.nfs.nconnect ?? 1) > 1 && s.options?.proto === "udp",
    value: (s) => s.nfs?.nconnect,
    message: "needs TCP: remove options.proto=udp or nconnect",
  },
  {
    field: "nfs.hard",
    when: (s) => !!s.nfs && s.nfs.hard === false && !s.readOnly,
    value: (s) => s.nfs?.hard,
    message: "a soft read-write NFS mount can silently lose writes on a timeout: keep hard (default) or set readOnly: true",
  },
  {
    field: "automountIdleSec",
    when: (s) => known(s.automountIdleSec) && !s.automount,
    value: (s) => s.automountIdleSec,
    message: "only applies with automount: true",
  },
  {
    field: "readOnly",
    when: (s) => s.readOnly === true && s.options?.rw !== undefined,
    value: (s) => s.options?.rw,
    message: "conflicts with options.rw: remove one of them",
  },
];

/** Every problem with a GuestMount spec (pure; values not known yet are skipped). */
export function validateGuestMount(spec: GuestMountSpec, prefix = ""): Problem[] {
  const c = new Checker("GuestMount");
  const f = (n: string) => `${prefix}${n}`;
  const types = MOUNT_SOURCES.filter((k) => spec[k] !== undefined);
  if (types.length !== 1) {
    c.add(f("nfs|smb|virtiofs|ninep"), types.length ? types : undefined, "set exactly one of nfs, smb, virtiofs or ninep");
  }
  c.required(f("where"), spec.where);
  if (known(spec.where)) {
    const p = pathEscapeProblem(spec.where);
    if (p) c.add(f("where"), spec.where, p);
    else {
      lineSafe(c, f("where"), spec.where);
      const system = writePathProblem(simplifyPath(spec.where), "tree");
      if (spec.where === "/") c.add(f("where"), spec.where, "cannot be '/': pick a directory such as /mnt/share");
      else if (system) c.add(f("where"), spec.where, system);
      else if (escapePath(spec.where).length + ".automount".length > UNIT_NAME_MAX) {
        c.add(f("where"), spec.where, `is too long for a systemd unit name (${UNIT_NAME_MAX} characters escaped)`);
      }
    }
  }
  const n = spec.nfs;
  if (n) {
    c.required(f("nfs.server"), n.server);
    if (known(n.server) && !isServer(n.server)) c.add(f("nfs.server"), n.server, "must be an IP address or a host name");
    c.required(f("nfs.exportPath"), n.exportPath).absPath(f("nfs.exportPath"), n.exportPath, "read");
    lineSafe(c, f("nfs.exportPath"), n.exportPath);
    c.oneOf(f("nfs.version"), n.version, NFS_VERSIONS);
    c.int(f("nfs.nconnect"), n.nconnect, 1, 16, "Linux allows 1-16 connections per server");
    for (const k of ["rsizeBytes", "wsizeBytes"] as const) {
      const v = n[k];
      c.int(f(`nfs.${k}`), v, 4096, 1048576, "bytes, e.g. 1048576 for 1 MiB");
      if (typeof v === "number" && Number.isInteger(v) && v % 1024 !== 0) c.add(f(`nfs.${k}`), v, "must be a multiple of 1024 bytes");
    }
    c.int(f("nfs.timeoDeciseconds"), n.timeoDeciseconds, 10, 6000, "timeo is in tenths of a second: 600 = 60 s");
    c.int(f("nfs.retrans"), n.retrans, 0, 10);
    if (known(n.sec) && (typeof n.sec !== "string" || !n.sec.split(":").every((s) => (NFS_SEC as readonly string[]).includes(s)))) {
      c.add(f("nfs.sec"), n.sec, `must be one or more of ${NFS_SEC.join(", ")} separated by ':'`);
    } else if (known(n.sec) && typeof n.sec === "string" && /krb5/.test(n.sec) && (n.kerberosRealm === undefined || n.kerberosRealm === "")) {
      c.add(f("nfs.sec"), n.sec, "needs Kerberos on this guest, which has none configured: declare a KerberosClient and a KerberosKeytab (host/<fqdn>) for the guest and set nfs.kerberosRealm: <client>.realm, or use sec: 'sys'");
    }
    if (known(n.kerberosRealm)) checkRealm(c, f("nfs.kerberosRealm"), n.kerberosRealm);
    c.port(f("nfs.port"), n.port);
    if (known(n.xprtsec)) {
      c.oneOf(f("nfs.xprtsec"), n.xprtsec, NFS_MOUNT_XPRTSEC);
      if (n.version === "3") c.add(f("nfs.version"), n.version, `is NFSv3, whose side protocols (MOUNT, NLM, rpcbind) are not carried over TLS, with nfs.xprtsec ${JSON.stringify(n.xprtsec)}; use version "4.2" (or "4.1"), or remove xprtsec`);
    }
  }
  const s = spec.smb;
  if (s) {
    c.required(f("smb.server"), s.server);
    if (known(s.server) && !isServer(s.server)) c.add(f("smb.server"), s.server, "must be an IP address or a host name");
    c.required(f("smb.share"), s.share);
    if (known(s.share) && (typeof s.share !== "string" || !SHARE.test(s.share) || s.share.trim() !== s.share)) {
      c.add(f("smb.share"), s.share, "must be a share name (1-80 characters, none of \\ / : * ? \" < > |, no control characters, no leading/trailing spaces)");
    }
    c.required(f("smb.username"), s.username);
    for (const k of ["username", "domain"] as const) {
      const v = s[k];
      if (!known(v)) continue;
      if (typeof v !== "string" || LINE_BREAKING.test(v)) c.add(f(`smb.${k}`), v, "must be a single line of text without control characters");
      else if (v === "" || /[,%/\\=\s]/.test(v)) {
        c.add(f(`smb.${k}`), v, "must be a plain name: not empty, no commas, '%', '/', '\\', '=' or spaces (mount.cifs passes it on as a mount option and splits user%password and domain/user)");
      } else if (Buffer.byteLength(v, "utf8") > CIFS_NAME_MAX_BYTES) c.add(f(`smb.${k}`), `${v.slice(0, 40)}...`, `must be at most ${CIFS_NAME_MAX_BYTES} bytes (mount.cifs cuts longer names)`);
    }
    if (known(s.version) && !(SMB_VERSIONS as readonly string[]).includes(s.version as string)) {
      c.add(f("smb.version"), s.version, `must be an SMB3 dialect: ${SMB_VERSIONS.join(", ")} (SMB1/SMB2 are refused: no encryption)`);
    }
    c.port(f("smb.port"), s.port);
    c.int(f("smb.uid"), s.uid, 0, MAX_ID);
    c.int(f("smb.gid"), s.gid, 0, MAX_ID);
    c.mode(f("smb.fileMode"), s.fileMode).mode(f("smb.dirMode"), s.dirMode);
    c.absPath(f("smb.credentialsFile"), s.credentialsFile, "tool");
    lineSafe(c, f("smb.credentialsFile"), s.credentialsFile);
    if (known(s.credentialsFile) && typeof s.credentialsFile === "string" && /[,\s]/.test(s.credentialsFile)) {
      c.add(f("smb.credentialsFile"), s.credentialsFile, "must not contain commas or spaces (it goes into the mount options)");
    }
  }
  for (const [k, t] of [["virtiofs", spec.virtiofs], ["ninep", spec.ninep]] as const) {
    if (!t) continue;
    c.required(f(`${k}.tag`), t.tag);
    if (known(t.tag) && (typeof t.tag !== "string" || !TAG.test(t.tag))) {
      c.add(f(`${k}.tag`), t.tag, "must be 1-36 letters, digits, '_', '.', '-' (the <target dir> of the domain's <filesystem>)");
    }
  }
  if (spec.ninep) {
    c.oneOf(f("ninep.version"), spec.ninep.version, ["9p2000.L", "9p2000.u"]);
    c.int(f("ninep.msizeBytes"), spec.ninep.msizeBytes, 8192, 4194304, "bytes; the virtio transport caps it (512000 on older kernels)");
    c.oneOf(f("ninep.cache"), spec.ninep.cache, ["none", "loose", "fscache", "mmap"]);
  }
  c.oneOf(f("style"), spec.style, ["systemd", "fstab"]);
  c.oneOf(f("activation"), spec.activation, ACTIVATIONS);
  c.int(f("automountIdleSec"), spec.automountIdleSec, 0, 31536000);
  c.int(f("timeoutSec"), spec.timeoutSec, 1, 3600);
  for (const [k, use] of [["root", "dir"], ["unitDir", "unitDir"], ["fstabPath", "file"]] as const) {
    c.absPath(f(k), spec[k], use);
    lineSafe(c, f(k), spec[k]);
  }
  lineSafe(c, f("description"), spec.description);
  if (typeof spec.description === "string" && spec.description.length > 256) c.add(f("description"), spec.description, "must be at most 256 characters (a unit's Description=); shorten it");
  const type = mountType(spec);
  if (type && spec.options !== undefined && !isUnknown(spec.options)) {
    for (const p of validateExtraOptions(type, spec.options, spec.style ?? "systemd")) c.add(f(p.field), p.value, p.message);
  }
  for (const row of FORBIDDEN) if (row.when(spec)) c.add(f(row.field), row.value(spec), row.message);
  return c.problems;
}

/**
 * GuestMount's host-side extras (issue 18), kept out of the mount's own spec: the packages its
 * mount helper needs, and the optional self-healing health check (`mountHealth.ts`).
 */
export interface GuestMountExtras extends HostSetupArgs {
  /**
   * A systemd timer that checks the mount every `periodSec` (a `stat -f` with a timeout, an
   * optional marker read), remounts it when it is missing, stale or hung, logs to the journal
   * (tag `kvmshare-mount-health`) and writes a node_exporter textfile; `true` for the defaults.
   * @default unset: no health check
   */
  healthCheck?: true | MountHealthCheckArgs;
}
