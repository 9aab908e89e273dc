/**
 * Kerberos area: validation (field + value + fix), the rendered kdc.conf / krb5.conf / idmapd /
 * gssd / FreeRADIUS files (snapshots), kadmin quoting, the RADIUS password hash, the krb5*
 * guard of NfsExport and GuestMount, and the components under Pulumi mocks (every secret only
 * ever in `secrets`, never in a spec).
 */
import * as pulumi from "@pulumi/pulumi";
import { formatProblem } from "../../core/errors";
import { resolveKerberosClient, validateKerberosClient } from "../../components/kerberos/kerberosClientArgs";
import { renderKerberosClient } from "../../components/kerberos/kerberosClientKind";
import { resolveKerberosRealm, validateKerberosRealm } from "../../components/kerberos/kerberosRealmArgs";
import { renderKerberosRealm } from "../../components/kerberos/kerberosRealmKind";
import { resolveKerberosKeytab, validateKerberosKeytab } from "../../components/kerberos/kerberosKeytabArgs";
import { resolveOtpRadius, validateOtpRadius } from "../../components/kerberos/otpRadiusArgs";
import { renderClients, renderOtpRadiusConfig, renderUsers, ssha512, userSalts } from "../../components/kerberos/otpRadiusKind";
import { otpAttribute } from "../../components/kerberos/kerberosOtpUserKind";
import { kadminArg, kadminLine } from "../../components/kerberos/krbNames";
import { resolveNfsExport, validateNfsExportArgs } from "../../components/nfs/nfsExportArgs";
import { GuestMountSpec, validateGuestMount } from "../../components/guest/guestMountArgs";
import { mockPulumi } from "./mocks";

const realm = (over: Record<string, unknown> = {}) => resolveKerberosRealm("realm", { realm: "EXAMPLE.ORG", ...over } as Parameters<typeof resolveKerberosRealm>[1]);
const realmMessages = (over: Record<string, unknown> = {}, secrets?: Record<string, unknown>) => validateKerberosRealm(realm(over), secrets).map(formatProblem);
const clientMessages = (over: Record<string, unknown> = {}) => validateKerberosClient(resolveKerberosClient("c", { realm: "EXAMPLE.ORG", kdcs: ["kdc.example.org"], ...over })).map(formatProblem);

describe("realm names", () => {
  it("refuses a lowercase realm and names the uppercase one", () => {
    expect(realmMessages({ realm: "example.org" }).join("\n")).toMatch(/^realm: must be uppercase.*use 'EXAMPLE\.ORG' \(got 'example\.org'\)$/);
  });
  it.each([["EXAMPLE ORG"], ['EX"AMPLE'], ["EXAMPLE.ORG}"], ["EXAMPLE\nORG"], [""], ["EXAMPLE..ORG"], ["-EXAMPLE"]])("refuses realm %j", (r) => {
    expect(realmMessages({ realm: r }).some((m) => m.startsWith("realm: "))).toBe(true);
  });
  it("takes EXAMPLE.ORG, K-1.TEST", () => {
    expect(realmMessages({ realm: "K-1.TEST" })).toEqual([]);
  });
  it("KerberosClient: every problem at once, each with field, value and fix", () => {
    const m = clientMessages({ realm: "lower.case", kdcs: [], domain: "bad domain", krb5ConfPath: "rel/krb5.conf" });
    expect(m).toEqual(expect.arrayContaining([
      expect.stringMatching(/realm.*must be uppercase/),
      expect.stringMatching(/kdcs.*at least one KDC/),
      expect.stringMatching(/domain: must be a DNS domain.*\(got 'bad domain'\)/),
      expect.stringMatching(/krb5ConfPath.*absolute/),
    ]));
  });
});

describe("KerberosRealm", () => {
  it("defaults to Debian's paths, admin/admin, port 88, and restarts the KDC services", () => {
    expect(realm()).toMatchObject({ kdcConfPath: "/etc/krb5kdc/kdc.conf", databasePath: "/var/lib/krb5kdc/principal", stashPath: "/etc/krb5kdc/stash", adminPrincipal: "admin/admin", kdcPorts: [88], restartCommand: ["systemctl", "restart", "krb5-kdc", "krb5-admin-server"], allowDestroy: false });
  });
  it("the spec never holds a secret, whatever the args carry", () => {
    const spec = resolveKerberosRealm("r", { realm: "EXAMPLE.ORG", masterKey: "MK", adminPassword: "AP", otp: { radiusServer: "127.0.0.1:1812", radiusSecret: "RS" } } as never);
    expect(JSON.stringify(spec)).not.toMatch(/MK|AP|RS/);
  });
  it("checks secrets without putting them into messages", () => {
    const m = realmMessages({ otp: { radiusServer: "127.0.0.1:1812", radiusSecret: "x" } }, { masterKey: "line\nbreak-SECRET", adminPassword: "", radiusSecret: 'quote"SECRET' });
    expect(m.join("\n")).not.toContain("SECRET");
    expect(m).toEqual(expect.arrayContaining([expect.stringMatching(/masterKey.*line break/), expect.stringMatching(/adminPassword.*empty/), expect.stringMatching(/otp\.radiusSecret.*double quotes/)]));
  });
  it("renders kdc.conf with an [otp] token type whose secret is a file, and the ACL", () => {
    const files = renderKerberosRealm(realm({ otp: { radiusServer: "127.0.0.1:1812", radiusSecret: "x" } }));
    expect(files["/etc/krb5kdc/kdc.conf"].content).toMatchSnapshot();
    expect(files["/etc/krb5kdc/kdc.conf"].content).toMatch(/\[otp\]\n {2}kvmshare = \{\n {4}server = 127\.0\.0\.1:1812\n {4}secret = \/etc\/krb5kdc\/kvmshare-radius\.secret/);
    expect(files["/etc/krb5kdc/kadm5.acl"]).toEqual({ content: expect.stringContaining("admin/admin@EXAMPLE.ORG *\n"), mode: "0600" });
  });
  it("no [otp] section without otp", () => {
    expect(renderKerberosRealm(realm())["/etc/krb5kdc/kdc.conf"].content).not.toContain("[otp]");
  });
});

describe("KerberosClient files", () => {
  it("renders krb5.conf, idmapd.conf and the gssd drop-in", () => {
    const files = renderKerberosClient(resolveKerberosClient("c", { realm: "EXAMPLE.ORG", kdcs: ["kdc1.example.org", "kdc2.example.org:88"] }));
    expect(Object.keys(files)).toEqual(["/etc/krb5.conf", "/etc/idmapd.conf", "/etc/nfs.conf.d/kvmshare-gssd.conf"]);
    for (const f of Object.values(files)) expect(f.content).toMatchSnapshot();
    expect(files["/etc/idmapd.conf"].content).toContain("Domain = example.org\n");
  });
});

describe("KerberosKeytab", () => {
  it("host/ and nfs/ principals of the fqdn, kadmin.local with a KerberosRealm, kadmin otherwise", () => {
    expect(resolveKerberosKeytab({ realmName: "EXAMPLE.ORG", fqdn: "nfs.example.org" })).toMatchObject({ principals: ["host/nfs.example.org", "nfs/nfs.example.org"], via: "kadmin", keytabPath: "/etc/krb5.keytab" });
  });
  it("refuses an uppercase or unqualified fqdn and a missing admin password with via kadmin", () => {
    const m = validateKerberosKeytab(resolveKerberosKeytab({ realmName: "EXAMPLE.ORG", fqdn: "NFS" }), {}).map(formatProblem);
    expect(m).toEqual(expect.arrayContaining([expect.stringMatching(/fqdn: must be a fully qualified.*\(got 'NFS'\)/), expect.stringMatching(/adminPassword.*required/)]));
  });
});

describe("kadmin quoting (the ss parser: double quotes, a quote doubled)", () => {
  it("keeps a JSON string attribute intact", () => {
    expect(kadminArg('[{"type":"kvmshare"}]')).toBe('"[{""type"":""kvmshare""}]"');
    expect(kadminLine(["set_string", "alice", "otp", "x y"])).toBe('"set_string" "alice" "otp" "x y"');
  });
  it("the otp attribute names the token type and the RADIUS user", () => {
    expect(otpAttribute({ realm: "R", name: "alice", radiusUser: "alice", tokenType: "kvmshare", krb5ConfPath: "/", kdcConfPath: "/" })).toBe('[{"type":"kvmshare","username":"alice"}]');
  });
});

describe("OtpRadius", () => {
  const spec = resolveOtpRadius("otp", { users: [{ name: "alice" }, { name: "bob" }] });
  const secrets = { radiusSecret: "rs", "password:alice": "pa", "totp:alice": "JBSWY3DPEHPK3PXP", "password:bob": "pb", "totp:bob": "KRUGS4ZANFZSAYJA" };
  it("renders radiusd.conf (pap + totp, password+token split) and the unit", () => {
    const files = renderOtpRadiusConfig(spec);
    expect(files["/etc/freeradius/kvmshare/radiusd.conf"].content).toMatchSnapshot();
    // One-time codes (RFC 6238 5.2): accepted user + code remembered past rlm_totp's 60 s window; a second accept is a reject.
    expect(files["/etc/freeradius/kvmshare/radiusd.conf"].content).toMatch(/cache otp_replay \{[^}]*key = "%\{User-Name\}\/%\{TOTP-Password\}"\n\s*ttl = 90\n[\s\S]*post-auth \{[^}]*otp_replay\n\s*if \(ok\) \{\n\s*reject/);
    expect(files["/etc/systemd/system/kvmshare-otp-radius.service"].content).toMatchSnapshot();
  });
  it("the users file holds salted SHA-512 hashes, never the password; an unchanged password keeps its hash", () => {
    const users = renderUsers(spec, secrets, {});
    expect(users).not.toContain('"pa"');
    expect(users).toMatch(/^"alice" SSHA2-512-Password := "[A-Za-z0-9+/=]+", TOTP-Secret := "JBSWY3DPEHPK3PXP"$/m);
    expect(renderUsers(spec, secrets, userSalts(users))).toBe(users);
    const salt = Buffer.alloc(16, 1);
    expect(Buffer.from(ssha512("pa", salt), "base64").subarray(64)).toEqual(salt);
  });
  it("clients.conf holds the shared secret for each KDC address", () => {
    expect(renderClients(spec, "rs")).toContain('ipaddr = 127.0.0.1\n  secret = "rs"');
  });
  it("refuses a TOTP secret that is not base32 and a password too long for RADIUS, without the values", () => {
    const m = validateOtpRadius(spec, { ...secrets, "totp:bob": "not base32!", "password:alice": "x".repeat(121) }).map(formatProblem);
    expect(m).toEqual(expect.arrayContaining([expect.stringMatching(/users\[1\]\.totpSecret.*base32/), expect.stringMatching(/users\[0\]\.password.*longer than 120 bytes/)]));
    expect(m.join("\n")).not.toContain("not base32!");
  });
  it("refuses duplicate users", () => {
    expect(validateOtpRadius(resolveOtpRadius("o", { users: [{ name: "a" }, { name: "a" }] })).map(formatProblem).join("\n")).toMatch(/users\[1\]\.name: is listed twice.*\(got 'a'\)/);
  });
});

describe("sec=krb5* needs Kerberos configuration (preview error naming field, value and fix)", () => {
  it("NfsExport: a client with krb5p and no kerberosRealm", () => {
    const m = validateNfsExportArgs("x", { path: "/srv", clients: [{ host: "nfs.example.org", sec: ["krb5p"] }] }).map(formatProblem);
    expect(m.join("\n")).toMatch(/clients\[0\]\.sec.*krb5p.*no Kerberos configuration.*KerberosClient.*kerberosRealm.*sec: \["sys"\]/);
  });
  it("NfsExport: the export-wide sec is reported once, under 'sec'", () => {
    const m = validateNfsExportArgs("x", { path: "/srv", sec: ["sys", "krb5i"], clients: ["a.example.org", "b.example.org"] }).map(formatProblem);
    expect(m.filter((x) => /no Kerberos/.test(x))).toEqual([expect.stringMatching(/^sec: /)]);
  });
  it("NfsExport: with kerberosRealm, krb5 flavours pass and the realm is in the spec", () => {
    const a = { path: "/srv", kerberosRealm: "EXAMPLE.ORG", clients: [{ host: "nfs.example.org", sec: ["krb5", "krb5i", "krb5p"] as ("krb5" | "krb5i" | "krb5p")[] }] };
    expect(validateNfsExportArgs("x", a)).toEqual([]);
    expect(resolveNfsExport("x", a).kerberosRealm).toBe("EXAMPLE.ORG");
    expect(validateNfsExportArgs("x", { ...a, kerberosRealm: "example.org" }).map(formatProblem).join("\n")).toMatch(/kerberosRealm.*uppercase/);
  });
  it("NfsExport: sec=sys needs nothing (and the spec has no kerberosRealm key)", () => {
    expect("kerberosRealm" in resolveNfsExport("x", { path: "/srv", clients: ["a.example.org"] })).toBe(false);
  });
  it("GuestMount: nfs.sec krb5p without nfs.kerberosRealm", () => {
    const m = validateGuestMount({ where: "/mnt/x", nfs: { server: "nfs.example.org", exportPath: "/srv", sec: "krb5p" } } as GuestMountSpec).map(formatProblem);
    expect(m.join("\n")).toMatch(/^nfs\.sec: needs Kerberos.*none configured.*KerberosClient.*nfs\.kerberosRealm.*\(got 'krb5p'\)$/);
    expect(validateGuestMount({ where: "/mnt/x", nfs: { server: "nfs.example.org", exportPath: "/srv", sec: "krb5p", kerberosRealm: "EXAMPLE.ORG" } } as GuestMountSpec)).toEqual([]);
  });
});

describe("components under mocks: secrets only in `secrets`", () => {
  const { registered } = mockPulumi();
  it("KerberosRealm, OtpRadius, KerberosKeytab (kadmin), KerberosOtpUser", async () => {
    const k = await import("../../components/kerberos");
    const r = new k.KerberosRealm("realm", { realm: "EXAMPLE.ORG", masterKey: pulumi.secret("MASTER-S"), adminPassword: pulumi.secret("ADMIN-S"), otp: { radiusServer: "127.0.0.1:1812", radiusSecret: pulumi.secret("RADIUS-S") } });
    new k.OtpRadius("otp", { users: [{ name: "alice", password: pulumi.secret("ALICE-S"), totpSecret: pulumi.secret("JBSWY3DPEHPK3PXP") }], radiusSecret: pulumi.secret("RADIUS-S") });
    new k.KerberosKeytab("client", { realmName: "EXAMPLE.ORG", fqdn: "guest.example.org", adminPassword: pulumi.secret("ADMIN-S") });
    new k.KerberosOtpUser("alice", { realm: r });
    await new Promise((res) => setTimeout(res, 100));
    const names = registered.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(["realm-kdc", "otp-radius", "client-keytab", "alice-principal"]));
    for (const a of registered) expect(JSON.stringify(a.inputs.spec ?? {})).not.toMatch(/MASTER-S|ADMIN-S|RADIUS-S|ALICE-S|JBSWY3DPEHPK3PXP/);
  });
  it("KerberosOtpUser refuses a realm without otp", async () => {
    const k = await import("../../components/kerberos");
    const r = new k.KerberosRealm("plain", { realm: "EXAMPLE.ORG", masterKey: pulumi.secret("m"), adminPassword: pulumi.secret("a") });
    expect(() => new k.KerberosOtpUser("bob", { realm: r })).toThrow(/realm.*has no OTP configured/);
  });
});
