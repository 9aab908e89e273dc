/**
 * The write-path policy: the one table of host paths kvmshare never writes, mounts over or
 * exposes, whatever the field, and the strict character set of paths handed to external tools.
 *
 * kvmshare runs as root. A path field is the user's declaration of where a component may write;
 * these are the places where a write would let a value run a command, bypass a login, lock out
 * or brick a host: what shells, PAM, sudo, cron, systemd, the package manager, the dynamic
 * linker, the boot loader and the kernel read. Pure; `Checker.absPath` applies it to every path
 * field (core/validate.ts).
 */
import * as path from "path";
import type { Problem } from "./errors";

/** One row: a path pattern (`*` matches within one segment) and why it is refused. */
export interface SystemPath {
  pattern: string;
  reason: string;
  /** Directories below the pattern that kvmshare owns, where it may write. */
  except?: string[];
}

/**
 * Paths refused, with the path itself and everything below it. A pattern's last segment may end
 * in `*` (`/etc/profile*` is /etc/profile, /etc/profile.d and what is below them).
 */
export const SYSTEM_PATHS: readonly SystemPath[] = [
  { pattern: "/etc/profile*", reason: "every login shell sources it" },
  { pattern: "/etc/bash*", reason: "bash sources it for every shell" },
  { pattern: "/etc/zsh*", reason: "zsh sources it for every shell" },
  { pattern: "/etc/csh*", reason: "csh sources it for every shell" },
  { pattern: "/etc/environment", reason: "pam_env reads it at every login" },
  { pattern: "/etc/shadow*", reason: "it holds the password hashes" },
  { pattern: "/etc/gshadow*", reason: "it holds the group password hashes" },
  { pattern: "/etc/passwd*", reason: "it defines the users and their shells" },
  { pattern: "/etc/group*", reason: "it defines the groups (sudo, wheel)" },
  { pattern: "/etc/subuid", reason: "it maps user namespaces" },
  { pattern: "/etc/subgid", reason: "it maps group namespaces" },
  { pattern: "/etc/sudo*", reason: "sudo reads it" },
  { pattern: "/etc/doas*", reason: "doas reads it" },
  { pattern: "/etc/pam.d", reason: "PAM reads it to decide every login" },
  { pattern: "/etc/pam.conf", reason: "PAM reads it to decide every login" },
  { pattern: "/etc/security", reason: "PAM modules read it (limits, access, namespaces)" },
  { pattern: "/etc/login.defs", reason: "login and useradd read it" },
  { pattern: "/etc/shells", reason: "it lists the login shells" },
  { pattern: "/etc/nsswitch.conf", reason: "every user and host lookup reads it" },
  { pattern: "/etc/ssh", reason: "sshd reads it (AuthorizedKeysCommand runs commands)" },
  { pattern: "/etc/cron*", reason: "cron runs what is written there" },
  { pattern: "/etc/anacrontab", reason: "anacron runs what is written there" },
  { pattern: "/etc/at.*", reason: "atd reads it" },
  { pattern: "/var/spool/cron", reason: "cron runs what is written there" },
  { pattern: "/var/spool/at*", reason: "atd runs what is written there" },
  { pattern: "/etc/systemd", reason: "systemd reads it (units run as root); only unit directories of components that write units they name are allowed" },
  { pattern: "/run/systemd", reason: "systemd reads it (units run as root); only unit directories of components that write units they name are allowed" },
  { pattern: "/etc/init.d", reason: "init scripts run as root at boot" },
  { pattern: "/etc/rc*", reason: "init runs it at boot" },
  { pattern: "/etc/inittab", reason: "init reads it at boot" },
  { pattern: "/etc/default", reason: "init scripts and units source it as shell" },
  { pattern: "/etc/update-motd.d", reason: "pam_motd runs it at every login" },
  { pattern: "/etc/logrotate*", reason: "logrotate runs its scripts as root" },
  { pattern: "/etc/udev", reason: "udev runs the RUN+= commands of its rules" },
  { pattern: "/etc/modprobe.d", reason: "modprobe runs its install commands" },
  { pattern: "/etc/modules*", reason: "the kernel modules loaded at boot" },
  { pattern: "/etc/ld.so*", reason: "the dynamic linker reads it for every program (ld.so.preload)" },
  { pattern: "/etc/apt", reason: "apt reads it (sources, hooks run as root)" },
  { pattern: "/etc/dpkg", reason: "dpkg reads it" },
  { pattern: "/etc/yum*", reason: "the package manager reads it" },
  { pattern: "/etc/dnf", reason: "the package manager reads it" },
  { pattern: "/etc/rpm", reason: "the package manager reads it" },
  { pattern: "/var/lib/dpkg", reason: "it is the package database" },
  { pattern: "/var/lib/apt", reason: "it is the package database" },
  { pattern: "/var/lib/rpm", reason: "it is the package database" },
  { pattern: "/etc/kernel", reason: "kernel package hooks run from it" },
  { pattern: "/etc/initramfs-tools", reason: "its hooks run and land in the initramfs" },
  { pattern: "/etc/polkit-1", reason: "polkit reads it to grant privileges" },
  { pattern: "/etc/dbus-1", reason: "dbus reads it (service activation)" },
  { pattern: "/etc/network/if-*", reason: "ifupdown runs its scripts as root" },
  { pattern: "/etc/NetworkManager/dispatcher.d", reason: "NetworkManager runs its scripts as root" },
  { pattern: "/etc/dhcp", reason: "dhclient runs its hooks as root" },
  { pattern: "/etc/hosts.allow", reason: "tcp_wrappers runs its spawn commands" },
  { pattern: "/etc/hosts.deny", reason: "tcp_wrappers runs its spawn commands" },
  { pattern: "/etc/xdg", reason: "desktop sessions run its autostart entries" },
  { pattern: "/etc/skel", reason: "it is copied into every new home directory" },
  { pattern: "/root/.*", reason: "root's shell, ssh and tools read it" },
  { pattern: "/home/*/.*", reason: "the user's shell, ssh and tools read it" },
  { pattern: "/boot", reason: "the boot loader and kernel live there" },
  { pattern: "/usr", reason: "the package manager owns it (programs, libraries, systemd units; /usr/local/bin comes first in root's PATH)", except: ["/usr/local/lib/kvmshare"] },
  { pattern: "/bin", reason: "the package manager owns it (programs)" },
  { pattern: "/sbin", reason: "the package manager owns it (programs)" },
  { pattern: "/lib*", reason: "the package manager owns it (libraries, modules, systemd units)" },
  { pattern: "/proc", reason: "it is the kernel's process interface" },
  { pattern: "/sys", reason: "it is the kernel's device interface" },
  { pattern: "/dev", reason: "it holds the devices" },
];

/** How a path field is used, which decides what the policy checks. */
export type PathUse =
  /** A file kvmshare writes (the default). */
  | "file"
  /** A directory kvmshare creates files in, under names it chooses. */
  | "dir"
  /** A directory of systemd units named by kvmshare or after a declared mount: /etc/systemd/system and /run/systemd/system are allowed. */
  | "unitDir"
  /** A systemd unit file: allowed in the unit directories when its name starts with `kvmshare-`. */
  | "unitFile"
  /** A directory mounted over or exposed to others (a mount point, an export, a share): also refused when it holds a system path (`/`, `/etc`, `/home/alice`). */
  | "tree"
  /** A key or secret path given to an external tool (syncoid's --sshkey, mount.cifs credentials=): a file, and only `A-Z a-z 0-9 . _ / -`. */
  | "tool"
  /** A key only read by an external tool (syncoid's --sshkey): the characters of "tool", no system-path check (keys live in /root/.ssh). */
  | "toolRead"
  /** A pool device: a block device under /dev, or a file kvmshare creates (then as "file"). */
  | "device"
  /** Only read or executed, never written (a program, a source): no policy. */
  | "read";

/** The characters a path handed to an external tool may have (no shell, option or list syntax). */
export const TOOL_PATH = /^\/[A-Za-z0-9._/-]+$/;

const UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system"];
const OWNED_UNIT = /^kvmshare-[A-Za-z0-9_.@-]+\.(service|timer|mount|automount|path|socket)$/;

function segmentMatches(pattern: string, seg: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
  return re.test(seg);
}

/** Does `path` (absolute, normalized) equal or sit below `pattern`? */
function under(pattern: string, segs: string[]): boolean {
  const p = pattern.split("/").slice(1);
  return segs.length >= p.length && p.every((ps, i) => segmentMatches(ps, segs[i]));
}

/** Does `path` hold (is an ancestor of) something `pattern` matches? */
function holds(pattern: string, segs: string[]): boolean {
  const p = pattern.split("/").slice(1);
  return segs.length < p.length && segs.every((s, i) => segmentMatches(p[i], s));
}

function allowedUnit(segs: string[], use: PathUse): boolean {
  const path = "/" + segs.join("/");
  if (use === "unitDir") return UNIT_DIRS.includes(path);
  if (use === "unitFile") return UNIT_DIRS.includes("/" + segs.slice(0, -1).join("/")) && OWNED_UNIT.test(segs[segs.length - 1]);
  return false;
}

/**
 * Why kvmshare may not write `path` for a field used as `use`, or undefined when it may. The
 * path is expected absolute; non-normal paths (`..`, `.`, `//`) are refused here too.
 */
export function writePathProblem(path: string, use: PathUse = "file"): string | undefined {
  if (use === "read" || (use === "device" && path.startsWith("/dev/"))) return undefined;
  const segs = path.split("/").slice(1).filter((s, i, all) => s !== "" || i !== all.length - 1);
  if (segs.some((s) => s === ".." || s === "." || s === "")) {
    return "must not contain '..', '.' or empty segments (write the path it means, without them)";
  }
  const tool = use === "tool" || use === "toolRead";
  if (tool && !TOOL_PATH.test(path)) {
    return "must be a plain path of letters, digits, '.', '_', '/', '-' (an external tool pastes it into a command line, where anything else is syntax)";
  }
  if (tool && path.endsWith("/")) return "must be a file, not a directory";
  if (use === "toolRead") return undefined;
  if (segs.length === 0) return use === "tree" ? "must not be '/': mounting over or exposing the root file system exposes every system file" : undefined;
  if (allowedUnit(segs, use)) return undefined;
  for (const row of SYSTEM_PATHS) {
    if (row.except?.some((e) => under(e, segs))) continue;
    if (under(row.pattern, segs)) return `is a system path kvmshare never writes (${row.pattern}: ${row.reason}); choose a directory of your own, e.g. under /var/lib/kvmshare or /srv`;
    if (use === "tree" && holds(row.pattern, segs)) {
      return `holds system files (${row.pattern}: ${row.reason}); mounting over or exposing it would replace or expose them: choose a directory of its own, e.g. under /srv or /mnt`;
    }
  }
  return undefined;
}

/**
 * How a copy's destination overlaps its source, or undefined: the same path (the copy would
 * replace what it reads), inside it (a directory copy would copy itself without end) or holding
 * it (replacing the destination deletes the source). Both absolute; `/`-trailing forms compare equal.
 */
export function pathOverlap(source: unknown, destination: unknown): string | undefined {
  if (typeof source !== "string" || typeof destination !== "string" || !source.startsWith("/") || !destination.startsWith("/")) return undefined;
  const s = path.posix.normalize(source).replace(/\/+$/, "") || "/";
  const d = path.posix.normalize(destination).replace(/\/+$/, "") || "/";
  switch (nesting(s, d)) {
    case "same":
      return `is the source itself (${JSON.stringify(source)}): the copy would replace what it reads`;
    case "inside":
      return `is inside the source ${JSON.stringify(source)}: a directory copy would copy itself without end`;
    case "holds":
      return `holds the source ${JSON.stringify(source)}: replacing it would delete the source`;
  }
  return undefined;
}

/**
 * How `b` stands to `a`, both '/'-separated names (normalized paths, dataset names): the same,
 * inside `a`, holding `a`, or apart (undefined). "/" holds every path.
 */
export function nesting(a: string, b: string): "same" | "inside" | "holds" | undefined {
  const under = (x: string, y: string) => y === "/" || x.startsWith(y + "/");
  if (a === b) return "same";
  if (under(b, a)) return "inside";
  if (under(a, b)) return "holds";
  return undefined;
}

/**
 * Problems with files of one component that name the same path (one would overwrite the other:
 * a keytab written over krb5.conf, kdc.conf over the stash): each later field names the first.
 * Unset, empty ("" = not written) and non-string values are skipped.
 */
export function samePathProblems(files: Record<string, unknown>): Problem[] {
  const seen = new Map<string, string>();
  const out: Problem[] = [];
  for (const [field, v] of Object.entries(files)) {
    if (typeof v !== "string" || !v.startsWith("/")) continue;
    const key = path.posix.normalize(v).replace(/\/+$/, "");
    const first = seen.get(key);
    if (first) out.push({ field, value: v, message: `is the same file as ${first}: one would overwrite the other; give each its own path` });
    else seen.set(key, field);
  }
  return out;
}
