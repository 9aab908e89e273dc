/**
 * Reserved and dangerous values, one table per format, each row with its reason, and the one
 * check per table that components call (so a message names the field, the value and the fix).
 * A value in one of these tables is refused at preview whatever field it arrives in.
 *
 * Formats: resource names (file headers, unit and file names), FreeRADIUS users-file entries,
 * Kerberos principals, systemd units, apt/dnf package names, smb.conf parameters that run commands.
 * Addresses get the any-host guard of `core/clients.ts` (`isAnyHost`, `anyHostProblem`).
 */
import { Problem } from "./errors";
import { Checker, isUnknown } from "./validate";

/** One reserved value: what it matches and why it is refused. */
export interface ReservedRow {
  match: RegExp;
  reason: string;
}

/** The first row of `table` that `v` matches. */
export function reservedRow(table: readonly ReservedRow[], v: string): ReservedRow | undefined {
  return table.find((r) => r.match.test(v));
}

// ---------------------------------------------------------------------------------------------
// Resource names: the one choke point

/**
 * What a resource name (the name a component or host resource is given, which kvmshare quotes
 * into the header of every file it writes and into unit and file names) may not contain. The
 * union of the syntax characters of the formats it reaches: smb.conf (`[ ] ; # =`, line
 * continuation `\`), kadm5.acl and krb5.conf/kdc.conf (`{ } =`, whitespace splits an ACL line),
 * nfs.conf/sysctl.d (`= # ;`), FreeRADIUS (`" { } # $` expansion, whitespace), systemd units
 * (`%` specifiers, `\` escapes), shells reading a script's comment (`` ` $ ``).
 */
export const NAME_SYNTAX: readonly ReservedRow[] = [
  { match: /[\x00-\x1f\x7f-\x9f\u2028\u2029]/, reason: "a control character or line break ends the header comment it is quoted into and starts a line of its own in smb.conf, kadm5.acl, krb5.conf, kdc.conf, nfs.conf and the RADIUS files" },
  { match: /[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/, reason: "a bidirectional control reorders what an editor or terminal shows of the file" },
  { match: /\s/, reason: "whitespace splits a kadm5.acl or FreeRADIUS entry and a systemd word" },
  { match: /[[\]]/, reason: "'[' and ']' open a section in smb.conf, krb5.conf, kdc.conf, nfs.conf and systemd units" },
  { match: /[{}]/, reason: "'{' and '}' open and close blocks in krb5.conf, kdc.conf and FreeRADIUS files" },
  { match: /[=;#]/, reason: "'=', ';' and '#' are assignment and comment syntax in every INI-like file" },
  { match: /["'`$\\]/, reason: "quotes, '`', '$' and '\\' are quoting, expansion or line continuation in FreeRADIUS, shells and smb.conf" },
  { match: /[%*?|&<>(),!]/, reason: "'%' is a systemd and Samba specifier, and '*?|&<>(),!' are glob, ACL or shell syntax" },
];

/** The longest resource name accepted (unit names are at most 255 bytes with their prefix). */
export const MAX_RESOURCE_NAME = 200;

/**
 * Problems with a resource name: control characters and the syntax characters of the formats it
 * reaches (`NAME_SYNTAX`). Returns the problem messages with the rule's reason.
 */
export function checkResourceName(c: Checker, field: string, v: unknown): void {
  if (v === undefined || isUnknown(v)) return;
  if (typeof v !== "string" || v === "") return void c.add(field, v, "must be a non-empty resource name, e.g. 'data' or 'tank-backup'");
  const row = reservedRow(NAME_SYNTAX, v);
  if (row) c.add(field, v, `must be a name of letters, digits, '.', '_', '-', '/', ':', '@' or '+' (${row.reason}); rename the resource, e.g. '${v.replace(/[^A-Za-z0-9._:@+/-]+/g, "-").replace(/^-+|-+$/g, "") || "data"}'`);
  else if (v.length > MAX_RESOURCE_NAME) c.add(field, v, `is longer than ${MAX_RESOURCE_NAME} characters (it becomes part of unit and file names); use a shorter name`);
}

/**
 * The choke point every host kind passes (the provider's `check` and apply, `provider/providerImpl.ts`):
 * the spec's `name`, which kinds quote into file headers, sections and unit names, checked
 * whatever the kind's own validation says. Components check their resource name the same way
 * (`core/component.ts`).
 */
export function resourceNameProblems(spec: unknown, field = "name"): Problem[] {
  if (!spec || typeof spec !== "object" || !("name" in spec)) return [];
  const c = new Checker("name");
  checkResourceName(c, field, (spec as { name: unknown }).name);
  return c.problems;
}

// ---------------------------------------------------------------------------------------------
// FreeRADIUS users-file entries

/** Entry names the FreeRADIUS `users` file (rlm_files) reads as something other than one user. */
export const RADIUS_RESERVED_USERS: readonly ReservedRow[] = [
  { match: /^DEFAULT\d*$/i, reason: "DEFAULT is the users file's catch-all entry: it matches every user without an entry of their own, so they would log in with this entry's password and token" },
  { match: /^\$/, reason: "'$INCLUDE' and other '$' words are directives of the users file" },
  { match: /^(Fall-Through|Auth-Type|Cleartext-Password|User-Name)$/i, reason: "an attribute name reads as an attribute, not a user" },
];

/** A FreeRADIUS user name that is a reserved entry: a problem naming it. */
export function checkRadiusUser(c: Checker, field: string, v: unknown): void {
  if (typeof v !== "string") return;
  const row = reservedRow(RADIUS_RESERVED_USERS, v);
  if (row) c.add(field, v, `is reserved by FreeRADIUS (${row.reason}); use the user's own login name, e.g. 'alice'`);
}

// ---------------------------------------------------------------------------------------------
// Kerberos principals

/** Principals a realm cannot live without (MIT krb5): modifying them breaks it, deleting them kills it. */
export const KRB5_RESERVED_PRINCIPALS: readonly ReservedRow[] = [
  { match: /^krbtgt(\/|$)/i, reason: "krbtgt/<REALM> is the ticket-granting service: its key signs every ticket of the realm" },
  { match: /^kadmin(\/|$)/i, reason: "kadmin/admin, kadmin/changepw, kadmin/history and kadmin/<host> are the admin service's own principals (kadmin/history keeps old password keys)" },
  { match: /^changepw(\/|$)/i, reason: "changepw/* is the password-changing service" },
  { match: /^kiprop(\/|$)/i, reason: "kiprop/<host> is the database propagation service" },
  { match: /^K\/M$/i, reason: "K/M holds the database master key" },
  { match: /^WELLKNOWN(\/|$)/i, reason: "WELLKNOWN/* names (WELLKNOWN/ANONYMOUS...) are defined by RFC 6111 and RFC 8062" },
];

/** A principal (without realm) that the realm reserves: a problem naming it. */
export function checkReservedPrincipal(c: Checker, field: string, v: unknown): void {
  if (typeof v !== "string") return;
  const row = reservedRow(KRB5_RESERVED_PRINCIPALS, v.split("@")[0]);
  if (row) c.add(field, v, `is a principal the realm reserves (${row.reason}); name a user or admin principal of your own, e.g. 'alice' or 'alice/admin'`);
}

// ---------------------------------------------------------------------------------------------
// systemd units

/**
 * Units that are system states or the system's own plumbing (systemd.special(7)): starting,
 * stopping or restarting one reboots, halts, isolates or cuts the host off.
 */
export const SYSTEMD_RESERVED_UNITS: readonly ReservedRow[] = [
  { match: /^(reboot|soft-reboot|poweroff|halt|kexec|shutdown|final|umount|exit|ctrl-alt-del|sigpwr|kbrequest)\.target$/, reason: "a shutdown or reboot state: starting it reboots or powers off the host" },
  { match: /^(rescue|emergency|sysinit|basic|default|multi-user|graphical|initrd[a-z-]*|local-fs[a-z-]*|remote-fs[a-z-]*|sockets|timers|paths|slices|swap|getty|network[a-z-]*|nss-[a-z-]+|sleep|suspend|hibernate|hybrid-sleep|suspend-then-hibernate|system-update[a-z-]*|first-boot-complete|cryptsetup[a-z-]*)\.target$/, reason: "a boot or system state (systemd.special(7)): starting it isolates, suspends or rescues the host" },
  { match: /^systemd-(reboot|soft-reboot|poweroff|halt|kexec|suspend|hibernate|hybrid-sleep|suspend-then-hibernate)\.service$/, reason: "the service that performs a shutdown, reboot or sleep" },
  { match: /^(rescue|emergency|debug-shell)\.service$/, reason: "a single-user shell service: it takes over the console" },
  { match: /\.(slice|scope|device|swap)$/, reason: "slices, scopes, devices and swaps are the system's own units, not services" },
  { match: /^-\.(mount|slice)$/, reason: "'-.mount' is the root file system and '-.slice' the root slice" },
  { match: /^(init\.scope|system\.slice|user\.slice|machine\.slice)$/, reason: "systemd's own scope and slices" },
];

/**
 * The host's lifelines: declared running they are fine, but stopped, disabled or restarted on a
 * config change they cut kvmshare and every admin off the host.
 */
export const SYSTEMD_LIFELINE_UNITS: readonly ReservedRow[] = [
  { match: /^(ssh|sshd)\.(service|socket)$/, reason: "the SSH server: kvmshare and every admin reach the host through it" },
  { match: /^(systemd-journald|systemd-logind|systemd-udevd|dbus|dbus-broker|polkit)\.(service|socket)$/, reason: "the journal, logins, devices and D-Bus: systemctl itself and every login need them" },
  { match: /^(systemd-networkd|systemd-resolved|NetworkManager|networking)\.(service|socket)$/, reason: "the host's network configuration" },
];

/** `smbd` -> `smbd.service`; names with a unit suffix stay. */
export function unitFileName(unit: string): string {
  return /\.(service|socket|target|timer|mount|automount|path|slice|scope|device|swap)$/.test(unit) ? unit : `${unit}.service`;
}

/** A unit name that is a reserved system unit (the `.service` suffix implied): a problem naming it. */
export function checkReservedUnit(c: Checker, field: string, v: unknown): void {
  if (typeof v !== "string") return;
  const row = reservedRow(SYSTEMD_RESERVED_UNITS, unitFileName(v));
  if (row) c.add(field, v, `is a unit kvmshare must not start, stop or restart (${row.reason}); name the service you declared or kvmshare installed, e.g. 'smbd' or 'nfs-server.service'`);
}

/** A lifeline unit declared stopped, disabled or restarted on change (`how` says which): a problem naming it. */
export function checkLifelineUnit(c: Checker, field: string, v: unknown, how: string | undefined): void {
  if (typeof v !== "string" || how === undefined) return;
  const row = reservedRow(SYSTEMD_LIFELINE_UNITS, unitFileName(v));
  if (row) c.add(field, v, `is ${how}: ${row.reason}, so this would lock the host out; declare it running and enabled with no restartOn, or leave it out`);
}

// ---------------------------------------------------------------------------------------------
// Package names

/**
 * What a package name given to apt-get or dnf may not look like: the operators and patterns those
 * tools read in a name (a field that means a version or an architecture has its own field).
 * Debian policy names (`[a-z0-9][a-z0-9+.-]+`: `python3-ruamel.yaml`, `dvd+rw-tools`, `g++`) pass;
 * apt reads such a name as a regular expression only when no package has that exact name, which
 * HostPackages' preflight rules out against the host's package index (`apt-cache pkgnames`).
 */
export const PACKAGE_RESERVED: readonly ReservedRow[] = [
  { match: /^-/, reason: "a leading '-' reads as an option" },
  { match: /-$/, reason: "apt reads a trailing '-' as 'remove this package' (openssh-server- removes the SSH server)" },
  { match: /(^|[^+])\+$/, reason: "apt reads a trailing '+' as an install operator when no package has the exact name ('++' names such as g++ stay)" },
  { match: /[*?[\]^$|(){}\\]/, reason: "apt and dnf read globs and regular expressions in names ('*', '?', '[', '^', '$', '|'...) and install every match" },
  { match: /^[^A-Za-z0-9]|\.$|\.\./, reason: "a package name starts with a letter or digit and has no trailing or doubled '.' (Debian policy); apt would read such a string as a regular expression" },
  { match: /:/, reason: "':arch' picks an architecture; this field takes package names only" },
  { match: /=/, reason: "'=version' pins a version; this field takes package names only" },
  { match: /\//, reason: "'/release' picks a release; this field takes package names only" },
  { match: /[^A-Za-z0-9+._-]/, reason: "package names are letters, digits, '+', '.', '_', '-'" },
];

/** A package name with an operator, glob, regular expression or pin in it: a problem naming it. */
export function checkPackageName(c: Checker, field: string, v: unknown): void {
  if (typeof v !== "string") return void c.add(field, v, "must be a package name, e.g. 'rsync'");
  if (v === "" || v.length > 128) return void c.add(field, v, "must be a package name of 1-128 characters, e.g. 'rsync'");
  const row = reservedRow(PACKAGE_RESERVED, v);
  if (row) c.add(field, v, `is not a plain package name (${row.reason}); write the package's exact name, e.g. 'rsync' or 'nfs-common'`);
}

/**
 * Names apt could read as a regular expression when no package has the exact name: a '.' or a
 * '+' inside the name (`python3-ruamel.yam` installs python3-ruamel.yaml and its .clib). Plain
 * names (letters, digits, '-') are only ever read as names.
 */
export const APT_REGEX_PRONE = /[.+]/;

// ---------------------------------------------------------------------------------------------
// smb.conf parameters that run commands

/**
 * smb.conf parameters whose value is a command smbd (or winbindd, nmbd) runs, most as root
 * (smb.conf(5)). Samba reads parameter names without case and spaces ("rootpreexec" is
 * "root preexec"): compare with `smbParamKey`.
 */
export const SMB_COMMAND_PARAMETERS: readonly string[] = [
  "root preexec", "root postexec", "preexec", "exec", "postexec", "username map script", "add user script", "delete user script",
  "add group script", "delete group script", "add user to group script", "delete user from group script", "set primary group script",
  "add machine script", "rename user script", "check password script", "passwd program", "print command", "lpq command", "lprm command",
  "lppause command", "lpresume command", "queuepause command", "queueresume command", "magic script", "message command", "dfree command",
  "get quota command", "set quota command", "panic action", "shutdown script", "abort shutdown script", "addprinter command",
  "deleteprinter command", "addport command", "enumports command", "add share command", "change share command", "delete share command",
  "wins hook", "dns update command", "nsupdate command", "rndc command", "samba kcc command", "spn update command", "log nt token command",
  "idmap config * : script", "include", "config file",
];

/** A parameter name as Samba compares it: lowercase, without spaces. */
export function smbParamKey(k: string): string {
  return k.toLowerCase().replace(/\s+/g, "");
}

const SMB_COMMAND_KEYS = new Set(SMB_COMMAND_PARAMETERS.map(smbParamKey));

/** Is `k` a parameter that runs a command (or reads another config file that could)? */
export function isSmbCommandParameter(k: string): boolean {
  const key = smbParamKey(k);
  return SMB_COMMAND_KEYS.has(key) || /^idmapconfig.*:script$/.test(key);
}

// ---------------------------------------------------------------------------------------------
// Addresses (the any-host guard itself is `anyHostReason` in core/clients.ts)

/** Addresses that name no host: the unspecified address means "every interface" to a listener. */
export const UNSPECIFIED_ADDRESS: readonly ReservedRow[] = [
  { match: /^(0+\.0+\.0+\.0+|(0{0,4}:){1,7}:?0{0,4}|::)$/, reason: "the unspecified address (0.0.0.0, ::) is 'every interface' to a listener and no host to a client" },
];

/** Is `v` the unspecified address (`UNSPECIFIED_ADDRESS`)? */
export function isUnspecifiedAddress(v: unknown): boolean {
  return typeof v === "string" && reservedRow(UNSPECIFIED_ADDRESS, v) !== undefined;
}
