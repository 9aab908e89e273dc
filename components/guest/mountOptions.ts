/**
 * Mount options: the table of options each filesystem type accepts beyond the typed fields
 * (unknown ones are refused, with the list of known ones). Depends on nothing else in the area
 * (the option string a spec renders to is built in mountPlan.ts).
 */
import { Problem } from "../../core/errors";
import { MAX_ID } from "../../core/validate";

/** A value in `options`: `true` for a flag, else `key=value`. */
export type OptionValue = string | number | boolean;

/** The filesystem types a GuestMount can be (`9p` is set through the `ninep` field). */
export type MountType = "nfs" | "smb" | "virtiofs" | "9p";

/** How one option's value is checked. `flag`: no value (`true` to set it). */
type Rule =
  | { flag: true }
  | { int: [number, number]; hint?: string }
  | { oneOf: readonly string[] }
  | { pattern: RegExp; hint: string };

const flag: Rule = { flag: true };
const int = (min: number, max: number, hint?: string): Rule => ({ int: [min, max], hint });
const oneOf = (...v: string[]): Rule => ({ oneOf: v });

/** Generic VFS options every type takes. */
const COMMON: Record<string, Rule> = {
  rw: flag, ro: flag, noatime: flag, relatime: flag, strictatime: flag, nodiratime: flag, lazytime: flag,
  nosuid: flag, nodev: flag, noexec: flag, sync: flag, async: flag, dirsync: flag, nofail: flag,
};

const NFS: Record<string, Rule> = {
  ac: flag, noac: flag, cto: flag, nocto: flag, fsc: flag, nosharecache: flag, resvport: flag, noresvport: flag,
  lock: flag, nolock: flag, softerr: flag, softreval: flag, nosoftreval: flag,
  actimeo: int(0, 3600, "seconds"), acregmin: int(0, 3600, "seconds"), acregmax: int(0, 3600, "seconds"),
  acdirmin: int(0, 3600, "seconds"), acdirmax: int(0, 3600, "seconds"),
  lookupcache: oneOf("all", "none", "pos", "positive"),
  local_lock: oneOf("none", "all", "flock", "posix"),
  proto: oneOf("tcp", "tcp6", "rdma", "rdma6", "udp", "udp6"),
  max_connect: int(1, 16), namlen: int(1, 255), retry: int(0, 10000, "minutes"),
  clientaddr: { pattern: /^[0-9A-Fa-f.:]+$/, hint: "an IP address" },
};

const SMB: Record<string, Rule> = {
  cache: oneOf("strict", "none", "loose", "singleclient", "multiclient"),
  actimeo: int(0, 3600, "seconds"), acregmax: int(0, 3600, "seconds"), acdirmax: int(0, 3600, "seconds"),
  rsize: int(4096, 16777216, "bytes"), wsize: int(4096, 16777216, "bytes"),
  multichannel: flag, max_channels: int(1, 16), nosharesock: flag,
  serverino: flag, noserverino: flag, mfsymlinks: flag, nobrl: flag, noperm: flag, forceuid: flag, forcegid: flag,
  handletimeout: int(0, 16000, "milliseconds"), echo_interval: int(1, 600, "seconds"),
  iocharset: { pattern: /^[A-Za-z0-9_-]{1,32}$/, hint: "a charset name such as utf8" },
  sec: oneOf("ntlmssp", "krb5", "krb5i", "ntlmsspi"),
  noacl: flag, acl: flag, nounix: flag, cifsacl: flag, hard: flag, soft: flag, resilienthandles: flag, persistenthandles: flag,
};

const VIRTIOFS: Record<string, Rule> = {
  dax: oneOf("always", "never", "inode"),
};

const NINEP: Record<string, Rule> = {
  access: { pattern: /^(user|any|client|[0-9]+)$/, hint: "user, any, client or a uid" },
  posixacl: flag, noextend: flag, privport: flag, dfltuid: int(0, MAX_ID), dfltgid: int(0, MAX_ID),
};

const TABLE: Record<MountType, Record<string, Rule>> = { nfs: NFS, smb: SMB, virtiofs: VIRTIOFS, "9p": NINEP };

/** Options a typed field or kvmshare itself sets: refused in `options`, with where to set them. */
const MANAGED: Record<MountType, Record<string, string>> = {
  nfs: {
    vers: "nfs.version", nfsvers: "nfs.version", minorversion: "nfs.version", nconnect: "nfs.nconnect",
    rsize: "nfs.rsizeBytes", wsize: "nfs.wsizeBytes", hard: "nfs.hard", soft: "nfs.hard (false)",
    timeo: "nfs.timeoDeciseconds (tenths of a second: 600 = 60 s)", retrans: "nfs.retrans", sec: "nfs.sec", port: "nfs.port",
    xprtsec: "nfs.xprtsec ('tls' or 'mtls'; leave it unset for no TLS)",
  },
  smb: {
    vers: "smb.version", seal: "smb.seal", port: "smb.port", uid: "smb.uid", gid: "smb.gid", file_mode: "smb.fileMode",
    dir_mode: "smb.dirMode", credentials: "smb.credentialsFile",
    username: "smb.username (written to the credentials file)", user: "smb.username (written to the credentials file)",
    password: "secrets.password (written to a 0600 credentials file, never in the options)",
    pass: "secrets.password (written to a 0600 credentials file, never in the options)",
    password2: "secrets.password", domain: "smb.domain", dom: "smb.domain", workgroup: "smb.domain",
  },
  virtiofs: {},
  "9p": { trans: "(always virtio)", version: "ninep.version", msize: "ninep.msizeBytes", cache: "ninep.cache" },
};

/** Problems with the free-form `options` of a mount of `type` (unknown options are refused). */
export function validateExtraOptions(type: MountType, options: Record<string, OptionValue>, style: string): Problem[] {
  const problems: Problem[] = [];
  const table = { ...COMMON, ...TABLE[type] };
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return [{ field: "options", value: options, message: "must be an object of option names to values, e.g. { noatime: true }" }];
  }
  for (const [key, value] of Object.entries(options)) {
    const field = `options.${key}`;
    if (key.startsWith("x-systemd.") || key === "_netdev" || key === "noauto" || key === "auto") {
      problems.push({ field, value, message: `is set by kvmshare from automount/automountIdleSec/style (${style}); remove it` });
      continue;
    }
    const managed = MANAGED[type][key];
    if (managed) {
      problems.push({ field, value, message: `is set through ${managed}; remove it from options` });
      continue;
    }
    const rule = table[key];
    if (!rule) {
      problems.push({ field, value, message: `is not a known ${type} mount option; known: ${Object.keys(table).sort().join(", ")}` });
      continue;
    }
    if ("flag" in rule) {
      if (value !== true) problems.push({ field, value, message: "is a flag: set it to true, or leave it out" });
    } else if ("int" in rule) {
      const [min, max] = rule.int;
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        problems.push({ field, value, message: `must be an integer from ${min} to ${max}${rule.hint ? ` (${rule.hint})` : ""}` });
      }
    } else if ("oneOf" in rule) {
      if (typeof value !== "string" || !rule.oneOf.includes(value)) problems.push({ field, value, message: `must be one of ${rule.oneOf.join(", ")}` });
    } else if (typeof value !== "string" || !rule.pattern.test(value)) {
      problems.push({ field, value, message: `must be ${rule.hint}` });
    }
  }
  return problems;
}
