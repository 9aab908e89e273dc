/**
 * A table of hostile inputs, fed through each component's preview validation as `pulumi
 * preview` runs it: the component's own validation (constructor) and the provider's `check`
 * (connection check + the kind's `validate`, secrets included). The connection is left unknown,
 * so `check` never contacts a host: a refusal here is a refusal before any host change. Every
 * input must be refused, by a one-line message naming the field it was given in; the summary
 * table (component, tried, refused) is printed for the closing note.
 */
import { formatProblem, Problem } from "../../core/errors";
import { check } from "../../provider/providerImpl";
import { UNKNOWN } from "../../core/validate";
import { PlainNfsExportArgs, resolveNfsExport, validateNfsExportArgs } from "../../components/nfs/nfsExportArgs";
import { resolveSmbShare } from "../../components/smb/smbShareArgs";
import { resolveSmbUser } from "../../components/smb/smbUserArgs";
import { GuestMountSpec } from "../../components/guest/guestMountArgs";
import { resolveKerberosRealm } from "../../components/kerberos/kerberosRealmArgs";
import { resolveOtpRadius } from "../../components/kerberos/otpRadiusArgs";
import { NetworkTuningArgs, validateNetworkTuning, resolveNetworkTuning } from "../../components/network/networkTuningArgs";
import { ShareFirewallOptions, validateShareFirewall } from "../../components/firewall/shareFirewallArgs";
import { HostGuestShareArgs, validateHostGuestShare } from "../../components/share/hostGuestShareArgs";
import { ParallelTransferArgs, validateParallelTransfer, resolveParallelTransfer } from "../../components/transfer/parallelTransferArgs";
import { resolveZfsReplication } from "../../components/protection/zfsReplicationArgs";

jest.setTimeout(120_000);

/** The kind id (its name) of a kind module under components/. */
const kindPath = (p: string) => (require(`../../components/${p}`) as { kind: { name: string } }).kind.name;

/** The provider's `check` at preview, with the connection not known yet (so no host is contacted). */
async function previewCheck(kind: string, spec: unknown, secrets?: Record<string, string>, connection: unknown = UNKNOWN): Promise<Problem[]> {
  const r = await check(kindPath(kind), { spec: {} }, { connection: connection as never, spec: spec as Record<string, unknown>, ...(secrets ? { secrets } : {}) });
  // `reason` is the formatted problem (`field: message (got ...)`): keep it whole as the message.
  return r.failures.map((f) => ({ field: f.property, message: f.reason.startsWith(`${f.property}: `) ? f.reason.slice(f.property.length + 2) : f.reason }));
}

interface Case {
  component: string;
  /** The field the hostile value was given in (a message must name it). */
  field: string;
  label: string;
  preview: () => Promise<Problem[]>;
}

const cases: Case[] = [];
const add = (component: string, field: string, label: string, preview: () => Promise<Problem[]> | Problem[]) =>
  cases.push({ component, field, label, preview: async () => preview() });

// NfsExport: the component's validation, then check on the resolved spec.
const nfs = (over: Partial<PlainNfsExportArgs>) => async () => {
  const a: PlainNfsExportArgs = { path: "/tank/share", clients: ["192.168.122.10"], ...over };
  return [...validateNfsExportArgs("share", a), ...(await previewCheck("nfs/nfsExportKind", resolveNfsExport("share", a)))];
};
for (const host of ["0.0.0.0/0", "::/0", "*", "0/0", "0.0.0.0", "::", "::ffff:0.0.0.0/96", "10.0.0.0/0", "1.0.0.0/1", "2000::/3", "guest\n*", "a b", "fe80::1%eth0", "@netgroup"]) {
  add("NfsExport", "clients[0]", `client ${JSON.stringify(host)}`, nfs({ clients: [host] }));
}
for (const p of ["/srv/x\n/etc *(rw,no_root_squash)", '/srv/"x', "srv/x", "/srv/../etc", "/srv/x\\", "/srv/x\u2028y"]) add("NfsExport", "path", `path ${JSON.stringify(p)}`, nfs({ path: p }));
add("NfsExport", "exportName", "exportName '../../etc/passwd'", nfs({ exportName: "../../etc/passwd" }));
add("NfsExport", "kernel.extraOptions[0]", "extraOptions 'rw,no_root_squash'", nfs({ kernel: { extraOptions: ["rw,no_root_squash"] } }));
add("NfsExport", "kernel.extraOptions[0]", "extraOptions with a newline", nfs({ kernel: { extraOptions: ["crossmnt\n/ *(rw)"] } }));
add("NfsExport", "fsid", "fsid '1\\n'", nfs({ fsid: "1\n" }));
add("NfsExport", "squash", "no_root_squash without acknowledgement", nfs({ squash: "no_root_squash" }));
add("NfsExport", "ganesha.pseudo", "ganesha pseudo '/x\";'", nfs({ backend: "ganesha", ganesha: { pseudo: '/x";' } }));
add("NfsExport", "ganesha.extraParameters", "ganesha parameter value '1; Squash = no_root_squash'", nfs({ backend: "ganesha", ganesha: { extraParameters: { Attr_Expiration_Time: "1; Squash = no_root_squash" } } }));
add("NfsExport", "ganesha.extraParameters", "ganesha parameter name with a newline", nfs({ backend: "ganesha", ganesha: { extraParameters: { "A\nCLIENT": "1" } } }));

// SmbShare: validation runs in check (the component runs the same function on known values).
const smb = (over: Record<string, unknown>) => () => previewCheck("smb/smbShareKind", resolveSmbShare("data", { path: "/tank/data", validUsers: ["alice"], hostsAllow: ["192.168.122.0/24"], ...over }));
for (const h of ["0.0.0.0/0", "::/0", "*", "ALL", "0.0.0.0", "LOCAL", "10.0.0.1 EXCEPT 10.0.0.2", "10.0.0.0/0", "guest\n[global]"]) add("SmbShare", "hostsAllow[0]", `hostsAllow ${JSON.stringify(h)}`, smb({ hostsAllow: [h] }));
for (const p of ["/srv/x\\", "/srv/x\n[evil]", "/srv/%U", '/srv/"x']) add("SmbShare", "path", `path ${JSON.stringify(p)}`, smb({ path: p }));
for (const n of ["global", "x]\n[evil", "homes", "a b"]) add("SmbShare", "shareName", `shareName ${JSON.stringify(n)}`, smb({ shareName: n }));
add("SmbShare", "validUsers[0]", "validUsers 'root\\n'", smb({ validUsers: ["root\n"] }));
add("SmbShare", "extraParameters", "extraParameters { path: '/' }", smb({ extraParameters: { path: "/" } }));
add("SmbShare", "extraParameters", "extraParameters { 'guest ok': 'yes' }", smb({ extraParameters: { "guest ok": "yes" } }));
add("SmbShare", "extraParameters", "extraParameters value ending in a backslash", smb({ extraParameters: { comment: "x\\" } }));
add("SmbShare", "extraParameters", "extraParameters value with '\\n[global]'", smb({ extraParameters: { comment: "a\n[global]\nserver signing = disabled" } }));
add("SmbShare", "createMask", "createMask 0777", smb({ createMask: "0777" }));

// SmbUser: the password is checked in check, from the secrets.
const user = (password: string, name = "alice") => () => previewCheck("smb/smbUserKind", resolveSmbUser(name, {}), { password });
for (const [label, pw] of [["empty", ""], ["a line break", "a\nb"], ["a NUL", "a\0b"], ["U+2028", "a\u2028b"], ["255 bytes", "x".repeat(255)], ["a control character", "a\x1bb"]] as const) {
  add("SmbUser", "password", `password with ${label}`, user(pw));
}
add("SmbUser", "name", "name 'root;id'", user("fine pw", "root;id"));

// Kerberos: secrets (master key, admin password, RADIUS secret, user password, TOTP secret) and
// names, checked in check; no value reaches a message.
const realmCheck = (secrets: Record<string, string>, over: Record<string, unknown> = {}) => () =>
  previewCheck("kerberos/kerberosRealmKind", resolveKerberosRealm("r", { realm: "EXAMPLE.ORG", otp: { radiusServer: "127.0.0.1:1812", radiusSecret: "" }, ...over } as never), { masterKey: "mk", adminPassword: "ap", radiusSecret: "rs", ...secrets });
add("KerberosRealm", "masterKey", "masterKey with a line break (a second kdb5_util answer)", realmCheck({ masterKey: "a\nb" }));
add("KerberosRealm", "adminPassword", "adminPassword empty", realmCheck({ adminPassword: "" }));
add("KerberosRealm", "otp.radiusSecret", "radiusSecret with a double quote (clients.conf)", realmCheck({ radiusSecret: 'a"b' }));
add("KerberosRealm", "realm", "realm 'EXAMPLE.ORG }\n[realms]'", realmCheck({}, { realm: "EXAMPLE.ORG }\n[realms]" }));
add("KerberosRealm", "adminPrincipal", "adminPrincipal 'admin@OTHER.REALM *'", realmCheck({}, { adminPrincipal: "admin@OTHER.REALM *" }));
const radiusCheck = (secrets: Record<string, string>) => () =>
  previewCheck("kerberos/otpRadiusKind", resolveOtpRadius("o", { users: [{ name: "alice" }] }), { radiusSecret: "rs", "password:alice": "pw", "totp:alice": "JBSWY3DPEHPK3PXP", ...secrets });
add("OtpRadius", "users[0].password", "password of 121 bytes (RADIUS carries 128 with the token)", radiusCheck({ "password:alice": "x".repeat(121) }));
add("OtpRadius", "users[0].totpSecret", "totpSecret not base32", radiusCheck({ "totp:alice": "not-base32-at-all" }));
add("OtpRadius", "radiusSecret", "radiusSecret with a line break", radiusCheck({ radiusSecret: "a\nb" }));

// GuestMount: spec validation and the password, both in check.
const MOUNT: GuestMountSpec = { where: "/mnt/share", smb: { server: "host.local", share: "data", username: "alice" } } as GuestMountSpec;
const mount = (spec: GuestMountSpec, password = "s3cret") => () => previewCheck("guest/guestMountKind", spec, spec.smb ? { password } : {});
add("GuestMount", "password", "password adding 'domain=' and 'username=root' lines", mount(MOUNT, "pw\ndomain=EVIL\nusername=root"));
add("GuestMount", "password", "password of 257 commas (514 bytes for mount.cifs)", mount(MOUNT, ",".repeat(257)));
add("GuestMount", "password", "password with NUL", mount(MOUNT, "a\0b"));
add("GuestMount", "smb.username", "username 'u,uid=0'", mount({ ...MOUNT, smb: { ...MOUNT.smb!, username: "u,uid=0" } }));
add("GuestMount", "smb.domain", "domain with a newline", mount({ ...MOUNT, smb: { ...MOUNT.smb!, domain: "D\npassword=x" } }));
add("GuestMount", "smb.share", "share with U+0085", mount({ ...MOUNT, smb: { ...MOUNT.smb!, share: "d\u0085x" } }));
add("GuestMount", "where", "where with a newline", mount({ ...MOUNT, where: "/mnt/x\n[Install]" }));
add("GuestMount", "description", "description ending in a backslash", mount({ ...MOUNT, description: "x\\" }));
add("GuestMount", "smb.credentialsFile", "credentialsFile '/etc/x,uid=0'", mount({ ...MOUNT, smb: { ...MOUNT.smb!, credentialsFile: "/etc/x,uid=0" } }));
add("GuestMount", "options", "an unknown option", mount({ ...MOUNT, options: { "x-evil": "1" } }));

// NetworkTuning: the component's validation, then check of the sysctl profile it resolves to.
const tuning = (args: NetworkTuningArgs) => async () => {
  const problems = validateNetworkTuning("t", args);
  const r = resolveNetworkTuning("t", args).resolved;
  if (r.sysctl) problems.push(...(await previewCheck("network/sysctlProfileKind", r.sysctl)));
  return problems;
};
for (const key of ["net.//.//.//.etc.hostname", "net./.x", "kernel..x", "net.ipv4.tcp_ecn\n", "../../etc/shadow"]) {
  add("NetworkTuning", "sysctl.extra", `sysctl key ${JSON.stringify(key)}`, tuning({ sysctl: { extra: { [key]: "1" } } }));
}
add("NetworkTuning", "sysctl.extra", "sysctl value '1\\nvm.x=1'", tuning({ sysctl: { extra: { "net.ipv4.tcp_ecn": "1\nvm.x=1" } } }));
add("NetworkTuning", "sysctl.extra", "sysctl value ending in a backslash", tuning({ sysctl: { extra: { "net.ipv4.tcp_ecn": "1\\" } } }));
for (const mtu of [16_777_216, 65536, 67]) add("NetworkTuning", "mtu", `mtu ${mtu}`, tuning({ device: "br0", mtu }));
add("NetworkTuning", "shaping.rateMbit", "tc rate 'fast' (reported against rateMbit, not burstKiB)", async () => {
  const ps = await tuning({ device: "br0", shaping: { kind: "tbf", rateMbit: "fast" as never } })();
  if (ps.some((p) => p.field.includes("burstKiB"))) throw new Error(`reported against burstKiB, a field the user did not set: ${ps.map(formatProblem).join("; ")}`);
  return ps;
});
add("NetworkTuning", "device", "device '../x'", tuning({ device: "../x", mtu: 1500 }));
add("NetworkTuning", "netns", "netns 'a b'", tuning({ netns: "a b", sysctl: { somaxconn: 1 } }));

// ShareFirewall: the component's validation, then check on the spec.
const fw = (over: ShareFirewallOptions) => async () => {
  const o: ShareFirewallOptions = { allowedSources: ["192.168.122.10"], ...over };
  return [...validateShareFirewall(o), ...(await previewCheck("firewall/shareFirewallKind", o))];
};
for (const s of ["0.0.0.0/0", "::/0", "*", "10.0.0.0/0", "1.0.0.0/1", "::ffff:0.0.0.0/96", "guest.lan"]) add("ShareFirewall", "allowedSources[0]", `allowedSources ${JSON.stringify(s)}`, fw({ allowedSources: [s] }));
add("ShareFirewall", "logPrefix", "logPrefix 'x\"; accept'", fw({ logPrefix: 'x"; accept', logRatePerMinute: 1 }));
add("ShareFirewall", "logPrefix", "logPrefix with a newline", fw({ logPrefix: "x\n}", logRatePerMinute: 1 }));
add("ShareFirewall", "tableName", "tableName 'x;y'", fw({ tableName: "x;y" }));
add("ShareFirewall", "allowedInterfaces[0]", "allowedInterfaces 'eth0\\n'", fw({ allowedInterfaces: ["eth0\n"] }));

// HostGuestShare: its own validation (its children repeat theirs).
const share = (over: Partial<HostGuestShareArgs>) => () => validateHostGuestShare("s", { protocol: "nfs", hostPath: "/srv/share", guest: { address: "192.168.122.10" }, serverAddress: "192.168.122.1", ...over } as HostGuestShareArgs);
for (const a of ["0.0.0.0/0", "::/0", "*", "0.0.0.0", "10.0.0.1/24\n"]) add("HostGuestShare", "guest.address", `guest address ${JSON.stringify(a)}`, share({ guest: { address: a } }));
add("HostGuestShare", "guest.address", "smb guest address '::/0'", share({ protocol: "smb", guest: { address: "::/0" }, smb: { username: "alice", password: "pw" } }));
add("HostGuestShare", "guest.address", "'::/0' allowed by the export but not by the firewall", share({ guest: { address: "::/0" }, nfs: { export: { allowAnyClient: true } }, firewall: true }));

// ParallelTransfer: the component's validation, then check on the spec.
const transfer = (args: Partial<ParallelTransferArgs>) => async () => {
  const a = { source: __filename, destination: "/srv/images/x", ...args } as ParallelTransferArgs;
  const r = resolveParallelTransfer(a);
  const spec = { source: a.source, destination: a.destination, verify: r.verify, changeDetection: r.changeDetection, allowDestroy: r.allowDestroy, sourceFingerprint: "1:x", ...(r.chunkSizeBytes !== undefined ? { chunkSizeBytes: r.chunkSizeBytes } : {}) };
  return [...validateParallelTransfer(a), ...(await previewCheck("transfer/parallelTransferKind", spec))];
};
add("ParallelTransfer", "destination", "destination '/'", transfer({ destination: "/" }));
add("ParallelTransfer", "destination", "destination '/etc'", transfer({ destination: "/etc" }));
for (const d of ["/usr/lib", "/home/alice", "/var/lib", "/lib64/x"]) add("ParallelTransfer", "destination", `destination ${d} with allowDestroy`, transfer({ destination: d, allowDestroy: true }));
add("ParallelTransfer", "destination", "destination with a newline", transfer({ destination: "/srv/x\n" }));
add("ParallelTransfer", "chunkSize", "chunkSize '64Q' (reported as given)", async () => (await transfer({ chunkSize: "64Q" })()).filter((p) => /64Q/.test(formatProblem(p))));

// ZfsDataset: the kind's validation in check.
for (const name of ["tank/../etc", "tank/.", "tank/x\n", "tank/x@snap", "tank//x"]) {
  add("ZfsDataset", "name", `dataset name ${JSON.stringify(name)}`, () => previewCheck("storage/zfsDatasetKind", { name, properties: {} }));
}

// Connection (every kind): the SSH key and passphrase checked in check.
const conn = (c: Record<string, unknown>) => () => previewCheck("storage/zfsDatasetKind", { name: "tank/x", properties: {} }, undefined, { kind: "ssh", host: "10.0.0.2", insecureIgnoreHostKey: true, ...c });
add("Connection", "connection.privateKey", "privateKey that is not a key", conn({ privateKey: "hunter2" }));
add("Connection", "connection.passphrase", "passphrase with NUL", conn({ passphrase: "a\0b" }));
add("Connection", "connection.host", "host 'a;b'", conn({ host: "a;b" }));
add("Connection", "connection.hostKeySha256", "hostKeySha256 'yes'", conn({ hostKeySha256: "yes", insecureIgnoreHostKey: false }));

// ZfsReplication: its target connection (a secret input) gets the connection checks too, named
// `targetConnection.*` (until this session it reached ssh2 unchecked).
const target = (c: Record<string, unknown>) => () =>
  previewCheck("protection/zfsReplicationKind", resolveZfsReplication("b", { source: "tank/a", target: "backup/a" }), {
    targetConnection: JSON.stringify({ kind: "ssh", host: "10.0.0.3", insecureIgnoreHostKey: true, ...c }),
  });
add("ZfsReplication", "targetConnection.host", "target host 'a;b'", target({ host: "a;b" }));
add("ZfsReplication", "targetConnection.privateKey", "target privateKey that is not a key", target({ privateKey: "hunter2" }));
add("ZfsReplication", "targetConnection.hostKeySha256", "target hostKeySha256 'yes'", target({ hostKeySha256: "yes", insecureIgnoreHostKey: false }));

describe("hostile inputs through preview validation", () => {
  const results: { c: Case; messages: string[]; named: boolean }[] = [];

  beforeAll(async () => {
    for (const c of cases) {
      const ps = await c.preview();
      const messages = ps.map((p) => formatProblem(p));
      results.push({ c, messages, named: ps.some((p) => p.field.startsWith(c.field) || p.field.replace(/^connection\./, "connection.") === c.field) });
    }
    const rows = new Map<string, { tried: number; refused: number; named: number }>();
    for (const r of results) {
      const row = rows.get(r.c.component) ?? { tried: 0, refused: 0, named: 0 };
      row.tried++;
      if (r.messages.length) row.refused++;
      if (r.named) row.named++;
      rows.set(r.c.component, row);
    }
    const total = [...rows.values()].reduce((t, r) => ({ tried: t.tried + r.tried, refused: t.refused + r.refused, named: t.named + r.named }), { tried: 0, refused: 0, named: 0 });
    const table = [
      "component         | hostile inputs | refused at preview (no host contacted) | refused naming the field",
      "------------------|----------------|----------------------------------------|-------------------------",
      ...[...rows.entries(), ["total", total] as const].map(([k, r]) => `${k.padEnd(17)} | ${String(r.tried).padStart(14)} | ${String(r.refused).padStart(38)} | ${String(r.named).padStart(24)}`),
    ].join("\n");
    console.log(`hostile inputs through preview validation:\n${table}`);
  });

  it("tries at least 82 hostile inputs across the components", () => {
    expect(cases.length).toBeGreaterThanOrEqual(82);
  });

  it.each(cases.map((c, i) => [`${c.component}: ${c.label}`, i] as const))("refuses %s, naming the field on one line", (_label, i) => {
    const r = results[i];
    expect(r.messages.length).toBeGreaterThan(0);
    expect(r.named).toBe(true);
    for (const m of r.messages) expect(m.split(/[\n\r\u2028\u2029\u0085]/)).toHaveLength(1);
    for (const m of r.messages) expect(m).not.toMatch(/\(got null\)/);
  });
});
