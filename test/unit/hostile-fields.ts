/**
 * Shared by the hostile-* tests: every free-text field that reaches a rendered file, as a
 * probe (validate with a benign rest, then render), the parsers that read a rendered file's
 * structure the way its daemon does (lines, sections, keys, options), and the hostile strings.
 */
import fc from "fast-check";
import { Problem } from "../../core/errors";
import { resolveNfsExport, validateNfsExportArgs, PlainNfsExportArgs } from "../../components/nfs/nfsExportArgs";
import { renderNfsExport } from "../../components/nfs/nfsRender";
import { resolveSmbShare, validateSmbShare } from "../../components/smb/smbShareArgs";
import { resolveSambaServer, validateSambaServer } from "../../components/smb/sambaServerArgs";
import { renderSambaServer, renderSmbShare } from "../../components/smb/smbRender";
import { validateSmbUser } from "../../components/smb/smbUserArgs";
import { GuestMountSpec, guestMountSecretProblems, validateGuestMount } from "../../components/guest/guestMountArgs";
import { planGuestMount } from "../../components/guest/mountPlan";
import { NetworkTuningArgs, resolveNetworkTuning } from "../../components/network/networkTuningArgs";
import { renderProfile } from "../../components/network/sysctlProfileKind";
import { resolveShareFirewall, ShareFirewallOptions, validateShareFirewall } from "../../components/firewall/shareFirewallArgs";
import { renderNftFile } from "../../components/firewall/shareFirewallKind";
import { resolveKerberosClient, validateKerberosClient } from "../../components/kerberos/kerberosClientArgs";
import { renderKerberosClient } from "../../components/kerberos/kerberosClientKind";
import { resolveKerberosRealm, validateKerberosRealm } from "../../components/kerberos/kerberosRealmArgs";
import { renderKerberosRealm } from "../../components/kerberos/kerberosRealmKind";
import { resolveKerberosKeytab, validateKerberosKeytab } from "../../components/kerberos/kerberosKeytabArgs";
import { OtpRadiusSpec, resolveOtpRadius, validateOtpRadius } from "../../components/kerberos/otpRadiusArgs";
import { renderClients, renderOtpRadiusConfig, renderUsers } from "../../components/kerberos/otpRadiusKind";
import { kadminLine } from "../../components/kerberos/krbNames";
import { resolveTlshd, validateTlshd } from "../../components/nfs/tlshdArgs";
import { renderTlshdFiles } from "../../components/nfs/tlshdKind";

/** Pieces hostile strings are built from: line and section breakers, quoting, escapes, injected options. */
export const PIECES = [
  "\n", "\r", "\r\n", "\0", "\u2028", "\u2029", "\u0085", "\t", "\v", "\f", "\x1b", "\x7f", "\u202e",
  '"', "'", "[", "]", "[global]", "=", ";", "#", "\\", "{", "}", "(", ")", ",", " ", "%", "$", "`", "*", "/", "..", ".", "@", ":",
  "include = /etc/shadow", "username=root", "rw,no_root_squash", "}\nEXPORT {", "\ndomain=EVIL", "é", "😀",
];

/** A hostile string: pieces mixed with random text, raw binary strings, or a very long value. */
export const hostile: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 10 }).map((a) => a.join("")) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 200, max: 5000 }), fc.constantFrom("a", "\n", "\\", "é")).map(([n, c]) => "x".repeat(n) + c) },
);

/** What a field's value must never get through: a break of a line in any reader, or NUL. */
export const BREAKS_A_LINE = /[\n\r\0\v\f\u0085\u2028\u2029]/;

/** Lines as the most lenient reader splits them. */
export function lines(text: string): string[] {
  return text.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/);
}

/**
 * INI-like files (smb.conf, sysctl.d, systemd units, nfs.conf, credentials): the kind of every
 * line (comment, section, `key =`, other with its word count), the number of mount options on
 * an `Options=` line, and whether a line continues onto the next (smb.conf and systemd read a
 * trailing backslash so; `continuation: false` for readers that do not, like mount.cifs).
 * Key names are left out: a field may be a key.
 */
export function iniShape(text: string, continuation = true): string[] {
  return lines(text).map((l) => {
    const t = l.trim();
    if (t === "") return "";
    if (t.startsWith("#") || t.startsWith(";")) return "#";
    if (t.startsWith("[")) return "[section]";
    const eq = t.indexOf("=");
    const key = t.slice(0, Math.max(eq, 0)).trim().toLowerCase();
    const kind = eq < 0 ? `?${t.split(/\s+/).length}` : "key=";
    const opts = key === "options" ? `(${t.slice(eq + 1).split(",").length} options)` : "";
    return kind + opts + (continuation && t.endsWith("\\") ? " continued" : "");
  });
}

/** A guest's files: units and fstab as systemd reads them, the credentials file as mount.cifs does (no continuation). */
export function guestShape(text: string): string[] {
  if (text.startsWith("username=")) return iniShape(text, false);
  // fstab: per entry line, the number of whitespace-separated fields and of options.
  return iniShape(text).map((k, i) => {
    const l = lines(text)[i];
    return k.startsWith("?") && !l.startsWith("#") ? `fields ${l.trim().split(/\s+/).length}, options ${(l.trim().split(/\s+/)[3] ?? "").split(",").length}` : k;
  });
}

/** exports(5): `"path" host(opt,...) host(opt,...)`, per line. */
export function exportsShape(text: string): string[] {
  return lines(text).map((l) => {
    if (l.startsWith("#") || l === "") return l ? "#" : "";
    const m = /^"([^"]*)"(.*)$/.exec(l);
    if (!m) return "BAD";
    return m[2]
      .trim()
      .split(/\s+/)
      .map((t) => {
        const c = /^([^()\s]+)\(([^()]*)\)$/.exec(t);
        return c ? `host(${c[2].split(",").length} options)` : "BAD";
      })
      .join(" ");
  });
}

/** ganesha.conf: the sequence of blocks and keys once quoted strings and comments are gone. */
export function ganeshaShape(text: string): string[] {
  if (BREAKS_A_LINE.test(text.replace(/\n/g, ""))) return ["BAD: a line break other than \\n"];
  const body = text.replace(/"[^"\n]*"/g, '""').replace(/#[^\n]*/g, "");
  const tokens: string[] = [];
  for (const m of body.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*(=|\{)|\}|;|"/g)) tokens.push(m[1] ? (m[2] === "{" ? `${m[1].toLowerCase()}{` : "key=") : m[0]);
  return tokens;
}

/** nft: per line, the number of words once quoted strings are gone (nft strings have no escapes). */
export function nftShape(text: string): string[] {
  return lines(text).map((l) => (l.trim().startsWith("#") ? "#" : `${l.replace(/"[^"]*"/g, "S").trim().split(/\s+/).length}`));
}

export interface Probe {
  problems: Problem[];
  /** The rendered files (only called when there are no problems). */
  render(): string[];
}

export interface Field {
  component: string;
  field: string;
  /** Turn a hostile string into the value tried (e.g. a path prefix, so format checks pass). */
  wrap: (h: string) => string;
  /** A benign value of the field. */
  benign: string;
  run: (v: string) => Probe;
  shape: (text: string) => string[];
}

const nfs = (over: Partial<PlainNfsExportArgs>): Probe => {
  const a: PlainNfsExportArgs = { path: "/tank/share", clients: ["192.168.122.10"], ...over };
  const problems = validateNfsExportArgs("share", a);
  return { problems, render: () => [renderNfsExport(resolveNfsExport("share", a))] };
};
const ganesha = (over: Partial<PlainNfsExportArgs>) => nfs({ backend: "ganesha", ...over });

const smbShare = (over: Record<string, unknown>): Probe => {
  const s = resolveSmbShare("data", { path: "/tank/data", validUsers: ["alice"], hostsAllow: ["192.168.122.0/24"], ...over });
  return { problems: validateSmbShare(s), render: () => [renderSmbShare(s)] };
};
const smbServer = (over: Record<string, unknown>): Probe => {
  const s = resolveSambaServer("smb", over);
  return { problems: validateSambaServer(s), render: () => [renderSambaServer(s)] };
};

const MOUNT_BASE: GuestMountSpec = { where: "/mnt/share", smb: { server: "host.local", share: "data", username: "alice" } } as GuestMountSpec;
const guest = (spec: GuestMountSpec, password = "s3cret pw"): Probe => {
  const secrets: Record<string, string> = spec.smb ? { password } : {};
  const problems = [...validateGuestMount(spec), ...guestMountSecretProblems(spec, secrets)];
  return {
    problems,
    render: () => {
      const plan = planGuestMount(spec, secrets);
      return [...Object.values(plan.units).map((u) => u.content), plan.fstab?.block ?? "", plan.credentials?.content ?? ""];
    },
  };
};

const tuning = (args: NetworkTuningArgs): Probe => {
  const { problems, resolved } = resolveNetworkTuning("t", args);
  return { problems, render: () => [resolved.sysctl ? renderProfile(resolved.sysctl) : "", resolved.bootUnit?.content ?? ""] };
};

const firewall = (over: ShareFirewallOptions): Probe => {
  const o: ShareFirewallOptions = { allowedSources: ["192.168.122.10"], ...over };
  return { problems: validateShareFirewall(o), render: () => [renderNftFile(resolveShareFirewall(o))] };
};

const path = (h: string) => `/srv/${h}`;
const raw = (h: string) => h;

/** Every free-text field that reaches a rendered file. */
export const FIELDS: Field[] = [
  { component: "NfsExport", field: "path", wrap: path, benign: "/srv/x", run: (v) => nfs({ path: v }), shape: exportsShape },
  { component: "NfsExport", field: "clients[0]", wrap: raw, benign: "guest.lan", run: (v) => nfs({ clients: [v] }), shape: exportsShape },
  { component: "NfsExport", field: "clients[0] (192.168.122.x prefix)", wrap: (h) => `192.168.122.${h}`, benign: "192.168.122.0/24", run: (v) => nfs({ clients: [v] }), shape: exportsShape },
  { component: "NfsExport", field: "exportName", wrap: raw, benign: "share", run: (v) => nfs({ exportName: v }), shape: exportsShape },
  { component: "NfsExport", field: "kernel.extraOptions[0]", wrap: (h) => `mountpoint=${h}`, benign: "crossmnt", run: (v) => nfs({ kernel: { extraOptions: [v] } }), shape: exportsShape },
  { component: "NfsExport", field: "fsid", wrap: raw, benign: "7", run: (v) => nfs({ fsid: v }), shape: exportsShape },
  { component: "NfsExport (ganesha)", field: "path", wrap: path, benign: "/srv/x", run: (v) => ganesha({ path: v }), shape: ganeshaShape },
  { component: "NfsExport (ganesha)", field: "ganesha.pseudo", wrap: path, benign: "/srv/x", run: (v) => ganesha({ ganesha: { pseudo: v } }), shape: ganeshaShape },
  { component: "NfsExport (ganesha)", field: "ganesha.extraParameters value", wrap: raw, benign: "60", run: (v) => ganesha({ ganesha: { extraParameters: { Attr_Expiration_Time: v } } }), shape: ganeshaShape },
  { component: "NfsExport (ganesha)", field: "ganesha.extraParameters key", wrap: raw, benign: "Attr_Expiration_Time", run: (v) => ganesha({ ganesha: { extraParameters: { [v]: "60" } } }), shape: ganeshaShape },
  { component: "NfsExport (ganesha)", field: "clients[0]", wrap: raw, benign: "guest.lan", run: (v) => ganesha({ clients: [v] }), shape: ganeshaShape },
  { component: "SmbShare", field: "path", wrap: path, benign: "/srv/x", run: (v) => smbShare({ path: v }), shape: iniShape },
  { component: "SmbShare", field: "shareName", wrap: raw, benign: "data", run: (v) => smbShare({ shareName: v }), shape: iniShape },
  { component: "SmbShare", field: "hostsAllow[0]", wrap: raw, benign: "guest.lan", run: (v) => smbShare({ hostsAllow: [v] }), shape: iniShape },
  { component: "SmbShare", field: "validUsers[0]", wrap: raw, benign: "bob", run: (v) => smbShare({ validUsers: [v] }), shape: iniShape },
  { component: "SmbShare", field: "validGroups[0]", wrap: raw, benign: "staff", run: (v) => smbShare({ validGroups: [v] }), shape: iniShape },
  { component: "SmbShare", field: "createMask", wrap: raw, benign: "0640", run: (v) => smbShare({ createMask: v }), shape: iniShape },
  { component: "SmbShare", field: "extraParameters value", wrap: raw, benign: "/.snapshot/", run: (v) => smbShare({ extraParameters: { "veto files": v } }), shape: iniShape },
  { component: "SmbShare", field: "extraParameters key", wrap: raw, benign: "veto files", run: (v) => smbShare({ extraParameters: { [v]: "yes" } }), shape: iniShape },
  { component: "SambaServer", field: "serverString", wrap: raw, benign: "kvmshare", run: (v) => smbServer({ serverString: v }), shape: iniShape },
  { component: "SambaServer", field: "workgroup", wrap: raw, benign: "WORKGROUP", run: (v) => smbServer({ workgroup: v }), shape: iniShape },
  { component: "SambaServer", field: "logFile", wrap: path, benign: "/srv/log.smbd", run: (v) => smbServer({ logFile: v }), shape: iniShape },
  { component: "SambaServer", field: "interfaces[0]", wrap: raw, benign: "127.0.0.1", run: (v) => smbServer({ interfaces: [v] }), shape: iniShape },
  { component: "SambaServer", field: "hostsAllow[0]", wrap: raw, benign: "127.0.0.1", run: (v) => smbServer({ hostsAllow: [v] }), shape: iniShape },
  { component: "SambaServer", field: "extraParameters value", wrap: raw, benign: "TCP_NODELAY", run: (v) => smbServer({ extraParameters: { "socket options": v } }), shape: iniShape },
  { component: "GuestMount", field: "where", wrap: (h) => `/mnt/${h}`, benign: "/mnt/x", run: (v) => guest({ ...MOUNT_BASE, where: v }), shape: guestShape },
  { component: "GuestMount", field: "description", wrap: raw, benign: "data share", run: (v) => guest({ ...MOUNT_BASE, description: v }), shape: guestShape },
  { component: "GuestMount", field: "smb.username", wrap: raw, benign: "bob", run: (v) => guest({ ...MOUNT_BASE, smb: { ...MOUNT_BASE.smb!, username: v } }), shape: guestShape },
  { component: "GuestMount", field: "smb.domain", wrap: raw, benign: "WORKGROUP", run: (v) => guest({ ...MOUNT_BASE, smb: { ...MOUNT_BASE.smb!, domain: v } }), shape: guestShape },
  { component: "GuestMount", field: "smb.share", wrap: raw, benign: "data2", run: (v) => guest({ ...MOUNT_BASE, smb: { ...MOUNT_BASE.smb!, share: v } }), shape: guestShape },
  { component: "GuestMount", field: "smb.credentialsFile", wrap: (h) => `/etc/kvmshare/${h}`, benign: "/etc/kvmshare/x.cred", run: (v) => guest({ ...MOUNT_BASE, smb: { ...MOUNT_BASE.smb!, credentialsFile: v } }), shape: guestShape },
  { component: "GuestMount", field: "password", wrap: raw, benign: "an0ther pw", run: (v) => guest(MOUNT_BASE, v), shape: guestShape },
  { component: "GuestMount", field: "nfs.exportPath", wrap: path, benign: "/srv/x", run: (v) => guest({ where: "/mnt/share", nfs: { server: "host.local", exportPath: v } } as GuestMountSpec), shape: guestShape },
  { component: "GuestMount (fstab)", field: "nfs.exportPath", wrap: path, benign: "/srv/x", run: (v) => guest({ where: "/mnt/share", style: "fstab", nfs: { server: "host.local", exportPath: v } } as GuestMountSpec), shape: guestShape },
  { component: "GuestMount (fstab)", field: "where", wrap: (h) => `/mnt/${h}`, benign: "/mnt/x", run: (v) => guest({ where: v, style: "fstab", nfs: { server: "host.local", exportPath: "/srv" } } as GuestMountSpec), shape: guestShape },
  { component: "GuestMount", field: "options value", wrap: raw, benign: "10.0.0.2", run: (v) => guest({ where: "/mnt/share", nfs: { server: "host.local", exportPath: "/srv" }, options: { clientaddr: v } } as GuestMountSpec), shape: guestShape },
  { component: "NetworkTuning", field: "sysctl.extra key", wrap: (h) => `net.ipv4.${h}`, benign: "net.ipv4.tcp_ecn", run: (v) => tuning({ sysctl: { extra: { [v]: "1" } } }), shape: iniShape },
  { component: "NetworkTuning", field: "sysctl.extra value", wrap: raw, benign: "1", run: (v) => tuning({ sysctl: { extra: { "net.ipv4.tcp_ecn": v } } }), shape: iniShape },
  { component: "NetworkTuning", field: "sysctl.tcpCongestionControl", wrap: raw, benign: "bbr", run: (v) => tuning({ sysctl: { tcpCongestionControl: v } }), shape: iniShape },
  { component: "NetworkTuning", field: "device (boot unit)", wrap: raw, benign: "br0", run: (v) => tuning({ device: v, mtu: 9000, bootUnit: {} }), shape: iniShape },
  { component: "ShareFirewall", field: "logPrefix", wrap: raw, benign: "kvmshare refused: ", run: (v) => firewall({ logPrefix: v, logRatePerMinute: 10 }), shape: nftShape },
  { component: "ShareFirewall", field: "tableName", wrap: raw, benign: "kvm", run: (v) => firewall({ tableName: v }), shape: nftShape },
  { component: "ShareFirewall", field: "allowedInterfaces[0]", wrap: raw, benign: "virbr0", run: (v) => firewall({ allowedInterfaces: [v] }), shape: nftShape },
  { component: "ShareFirewall", field: "allowedSources[0]", wrap: raw, benign: "10.0.0.0/24", run: (v) => firewall({ allowedSources: [v] }), shape: nftShape },
  { component: "ShareFirewall", field: "persistPath", wrap: path, benign: "/srv/x.nft", run: (v) => firewall({ persistPath: v }), shape: nftShape },
  { component: "KerberosClient", field: "realm", wrap: raw, benign: "EXAMPLE.ORG", run: (v) => krbClient({ realm: v }), shape: iniShape },
  { component: "KerberosClient", field: "domain", wrap: raw, benign: "example.org", run: (v) => krbClient({ domain: v }), shape: iniShape },
  { component: "KerberosClient", field: "kdcs[0]", wrap: raw, benign: "kdc.example.org:88", run: (v) => krbClient({ kdcs: [v] }), shape: iniShape },
  { component: "KerberosClient", field: "adminServers[0]", wrap: raw, benign: "kdc.example.org", run: (v) => krbClient({ adminServers: [v] }), shape: iniShape },
  { component: "KerberosRealm", field: "realm", wrap: raw, benign: "EXAMPLE.ORG", run: (v) => krbRealm({ realm: v }), shape: iniShape },
  { component: "KerberosRealm", field: "adminPrincipal", wrap: raw, benign: "root/admin", run: (v) => krbRealm({ adminPrincipal: v }), shape: iniShape },
  { component: "KerberosRealm", field: "otp.radiusServer", wrap: raw, benign: "10.0.0.5:1812", run: (v) => krbRealm({ otp: { radiusServer: v, radiusSecret: "s" } }), shape: iniShape },
  { component: "KerberosRealm", field: "databasePath", wrap: path, benign: "/srv/krb/principal", run: (v) => krbRealm({ databasePath: v }), shape: iniShape },
  { component: "KerberosKeytab", field: "fqdn (kadmin command line)", wrap: raw, benign: "nfs.example.org", run: (v) => keytab(v), shape: (t) => lines(t).map((l) => String(l.split(" ").length)) },
  { component: "OtpRadius", field: "users[0].name", wrap: raw, benign: "bob", run: (v) => radius({ users: [{ name: v }] }), shape: iniShape },
  { component: "OtpRadius", field: "configDir", wrap: path, benign: "/srv/radius", run: (v) => radius({ configDir: v }), shape: iniShape },
  { component: "OtpRadius", field: "kdcAddresses[0]", wrap: raw, benign: "10.0.0.5", run: (v) => radius({ kdcAddresses: [v] }), shape: iniShape },
  { component: "Tlshd", field: "certDir (tlshd.conf x509.* paths)", wrap: path, benign: "/srv/tls", run: (v) => tlshd({ certDir: v }), shape: iniShape },
  { component: "Tlshd", field: "configPath", wrap: path, benign: "/srv/tlshd.conf", run: (v) => tlshd({ configPath: v }), shape: iniShape },
];

function tlshd(over: { certDir?: string; configPath?: string }): Probe {
  const ca = `-----BEGIN CERTIFICATE-----\n${Buffer.alloc(48, 7).toString("base64")}\n-----END CERTIFICATE-----\n`;
  const spec = resolveTlshd("t", { client: { trustedCa: ca }, ...over });
  return { problems: validateTlshd(spec), render: () => [renderTlshdFiles(spec)[spec.configPath].content] };
}

function krbClient(over: Record<string, unknown>): Probe {
  const spec = resolveKerberosClient("c", { realm: "EXAMPLE.ORG", kdcs: ["kdc.example.org"], ...over });
  return { problems: validateKerberosClient(spec), render: () => Object.values(renderKerberosClient(spec)).map((f) => f.content) };
}

function krbRealm(over: Record<string, unknown>): Probe {
  const spec = resolveKerberosRealm("r", { realm: "EXAMPLE.ORG", ...over } as Parameters<typeof resolveKerberosRealm>[1]);
  return { problems: validateKerberosRealm(spec), render: () => Object.values(renderKerberosRealm(spec)).map((f) => f.content) };
}

function keytab(fqdn: string): Probe {
  const spec = resolveKerberosKeytab({ realmName: "EXAMPLE.ORG", fqdn });
  return { problems: validateKerberosKeytab(spec), render: () => spec.principals.map((p) => kadminLine(["ktadd", "-k", spec.keytabPath, p])) };
}

function radius(over: { users?: { name: string }[]; configDir?: string; kdcAddresses?: string[] }): Probe {
  const spec: OtpRadiusSpec = resolveOtpRadius("o", { users: [{ name: "alice" }], ...over });
  const secrets: Record<string, string> = { radiusSecret: "s3cret" };
  for (const u of spec.users) Object.assign(secrets, { [`password:${u}`]: "pw", [`totp:${u}`]: "JBSWY3DPEHPK3PXP" });
  return {
    problems: validateOtpRadius(spec, secrets),
    render: () => [...Object.values(renderOtpRadiusConfig(spec)).map((f) => f.content), renderClients(spec, "s3cret"), renderUsers(spec, secrets, {})].map((t) => t.replace(/"[A-Za-z0-9+/=]{40,}"/g, '"H"')),
  };
}

/** SmbUser's password reaches `smbpasswd -s` as two lines on stdin (apply writes `pw\npw\n`). */
export function smbpasswdProbe(v: string): Probe {
  return { problems: validateSmbUser({ name: "alice", configPath: "/etc/samba/smb.conf" }, { password: v }), render: () => [`${v}\n${v}\n`] };
}
