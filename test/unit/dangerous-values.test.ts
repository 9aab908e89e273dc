/**
 * Dangerous values per field kind, driven from the Args declarations: every string field of every
 * documented Args block (scripts/docs.ts `BLOCKS`) carries a `@fieldKind` tag in its doc comment,
 * and each value of that kind's table below, given to the field with an otherwise valid spec, is
 * refused by the component's validation with a message naming the field, the value (escaped) and
 * a fix. A string field without a tag fails the first test, so a new field is covered the day it
 * is added. The resource-name choke point (every kind in provider/kinds.ts) is walked at the end.
 */
import { BLOCKS, blockFields, FIELD_KINDS, Row, sourceIndex } from "../../scripts/docs";
import { escapeControl, formatProblem, Problem } from "../../core/errors";
import { connectionProblems } from "../../core/validate";
import { KINDS } from "../../provider/kinds";
import { check } from "../../provider/providerImpl";
import { resolveHostPackages, validateHostPackages } from "../../components/host/hostPackagesArgs";
import { resolveHostService, validateHostService } from "../../components/host/hostServiceArgs";
import { resolveKerberosRealm, validateKerberosRealm } from "../../components/kerberos/kerberosRealmArgs";
import { resolveKerberosKeytab, validateKerberosKeytab } from "../../components/kerberos/kerberosKeytabArgs";
import { resolveKerberosClient, validateKerberosClient } from "../../components/kerberos/kerberosClientArgs";
import { validateKerberosOtpUser } from "../../components/kerberos/kerberosOtpUserArgs";
import { resolveOtpRadius, validateOtpRadius } from "../../components/kerberos/otpRadiusArgs";
import { resolveSmbShare, validateSmbShare } from "../../components/smb/smbShareArgs";
import { resolveSambaServer, validateSambaServer } from "../../components/smb/sambaServerArgs";
import { validateNfsExportArgs } from "../../components/nfs/nfsExportArgs";
import { validateShareFirewall } from "../../components/firewall/shareFirewallArgs";

/**
 * The write-path policy (issue 25, deliverable 3) is another branch's (i25b): until it is merged,
 * the `path` rows that need it are skipped (shown as skipped, not passing). The lead sets this to
 * true at merge.
 */
const PATH_POLICY_LANDED = false;

/** The dangerous values of each field kind: each must be refused by every field of that kind. */
const DANGEROUS: Record<(typeof FIELD_KINDS)[number] | "user", { values: string[]; needsPathPolicy?: string[] }> = {
  name: { values: ["a\nb", "a\rb", "a\0b", "a\u2028b", "a\x1bb"] },
  path: {
    values: ["/srv/a\nb", "/srv/a\0b", "relative/path", "/srv/../etc/shadow"],
    needsPathPolicy: ["/etc/shadow", "/etc/profile.d/x.sh", "/root/.bashrc", "/etc/cron.d/x", "/etc/sudoers.d/x", "/etc/pam.d/x", "/etc/systemd/system/x.service", "/usr/lib/x", "/srv/$x", "/srv/`x`", "/srv/a;b", "/srv/a b"],
  },
  unit: { values: ["reboot.target", "poweroff.target", "halt.target", "kexec.target", "rescue.target", "emergency.target", "shutdown.target", "default.target", "ctrl-alt-del.target", "sysinit.target", "-.mount", "system.slice", "systemd-reboot.service", "rescue.service", "a\nb"] },
  package: { values: ["openssh-server-", "rsync+", "*ssh*", "lib.*", "ssh.", "a+b", "vim:i386", "vim=2:9.0", "vim/bookworm", "^ssh", "a|b", "-oAPT::x=1", "a\nb"] },
  principal: { values: ["krbtgt/EXAMPLE.ORG", "kadmin/admin", "kadmin/changepw", "kadmin/history", "K/M", "WELLKNOWN/ANONYMOUS", "kiprop/kdc.example.org", "changepw/kerberos", "a\nb"] },
  user: { values: ["DEFAULT", "default", "DEFAULT1", "$INCLUDE", "a\nb"] },
  address: { values: ["0.0.0.0/0", "::/0", "*", "0/0", "a\nb"] },
  command: { values: ["root preexec", "preexec", "postexec", "root postexec", "username map script", "add user script", "print command", "magic script", "rootpreexec", "Root  PreExec"] },
  free: { values: [] },
};

type Probe = (v: string) => Problem[];

const realm = { realm: "EXAMPLE.ORG", settings: { otp: { tokenType: "kvmshare" }, krb5ConfPath: "/etc/krb5.conf", kdcConfPath: "/etc/krb5kdc/kdc.conf" } } as never;
const radius = (over: Record<string, unknown>) => validateOtpRadius(resolveOtpRadius("o", { users: [{ name: "alice" }], ...over } as never));
const smbShare = (over: Record<string, unknown>) => validateSmbShare(resolveSmbShare("data", { path: "/tank/data", validUsers: ["alice"], hostsAllow: ["192.168.122.0/24"], ...over }));
const smbServer = (over: Record<string, unknown>) => validateSambaServer(resolveSambaServer("smb", over));
const krbClient = (over: Record<string, unknown>) => validateKerberosClient(resolveKerberosClient("c", { realm: "EXAMPLE.ORG", kdcs: ["kdc.example.org"], ...over }));

/**
 * How to give a value to a field (`<Block>.<field>` as the docs reader names it): validation with
 * an otherwise valid spec. Command-kind fields take the value as a parameter name.
 */
const PROBES: Record<string, Probe> = {
  "HostPackagesArgs.packages": (v) => validateHostPackages(resolveHostPackages("p", { packages: [v] })),
  "HostServiceArgs.unit": (v) => validateHostService(resolveHostService("s", { unit: v })),
  "KerberosRealmArgs.adminPrincipal": (v) => validateKerberosRealm(resolveKerberosRealm("r", { realm: "EXAMPLE.ORG", adminPrincipal: v })),
  "KerberosRealmArgs.otp.radiusServer": (v) => validateKerberosRealm(resolveKerberosRealm("r", { realm: "EXAMPLE.ORG", otp: { radiusServer: v, radiusSecret: "s" } })),
  "KerberosKeytabArgs.adminPrincipal": (v) => validateKerberosKeytab(resolveKerberosKeytab({ realmName: "EXAMPLE.ORG", fqdn: "nfs.example.org", adminPrincipal: v })),
  "KerberosKeytabArgs.fqdn": (v) => validateKerberosKeytab(resolveKerberosKeytab({ realmName: "EXAMPLE.ORG", fqdn: v })),
  "KerberosOtpUserArgs.principal": (v) => validateKerberosOtpUser({ realm: "EXAMPLE.ORG", name: v, radiusUser: "alice", tokenType: "kvmshare", krb5ConfPath: "/etc/krb5.conf", kdcConfPath: "/etc/krb5kdc/kdc.conf" }),
  "KerberosOtpUserArgs.radiusUser": (v) => validateKerberosOtpUser({ realm: "EXAMPLE.ORG", name: "alice", radiusUser: v, tokenType: "kvmshare", krb5ConfPath: "/etc/krb5.conf", kdcConfPath: "/etc/krb5kdc/kdc.conf" }),
  "KerberosClientArgs.kdcs": (v) => krbClient({ kdcs: [v] }),
  "KerberosClientArgs.adminServers": (v) => krbClient({ adminServers: [v] }),
  "OtpRadiusArgs.users[].name": (v) => radius({ users: [{ name: v }] }),
  "OtpRadiusArgs.kdcAddresses": (v) => radius({ kdcAddresses: [v] }),
  "OtpRadiusArgs.listenAddress": (v) => radius({ listenAddress: v }),
  "SmbShareArgs.hostsAllow": (v) => smbShare({ hostsAllow: [v] }),
  "SmbShareArgs.extraParameters": (v) => smbShare({ extraParameters: { [v]: "/bin/sh -c id" } }),
  "SambaServerArgs.hostsAllow": (v) => smbServer({ hostsAllow: [v] }),
  "SambaServerArgs.interfaces": (v) => smbServer({ interfaces: [v] }),
  "SambaServerArgs.extraParameters": (v) => smbServer({ extraParameters: { [v]: "/bin/sh -c id" } }),
  "NfsExportArgs.clients": (v) => validateNfsExportArgs("share", { path: "/tank/share", clients: [v] }),
  "NfsExportArgs.clients[].host": (v) => validateNfsExportArgs("share", { path: "/tank/share", clients: [{ host: v }] }),
  "ShareFirewallArgs.allowedSources": (v) => validateShareFirewall({ allowedSources: [v] }),
  "SshConnectionSpec.host": (v) => connectionProblems({ kind: "ssh", host: v }).map((p) => ({ ...p, field: p.field.replace(/^connection\./, "") })),
};

/**
 * Fields of the kinds with a table (not `free`; `name` and `path` fields are covered by the
 * hostile-* suites and the resource-name walk below) that have no probe here yet: listed so the
 * gap is visible, and a test fails when one gets a probe without leaving this list.
 */
const PROBE_PENDING = new Set([
  "ZfsReplicationArgs.sshTarget.host",
  "GuestMountArgs.nfs.server",
  "GuestMountArgs.smb.server",
  "HostGuestShareArgs.guest.address",
  "HostGuestShareArgs.serverAddress",
  "SharePerformanceCheckArgs.loss.target",
]);

const index = sourceIndex();
const rows: (Row & { block: string; key: string })[] = Object.keys(BLOCKS)
  .filter((b) => !BLOCKS[b].render)
  .flatMap((block) => blockFields(block, {}, index).map((r) => ({ ...r, block, key: `${block}.${r.field}` })));
const stringRows = rows.filter((r) => /\bstring\b/.test(r.type));
const KINDS_WITH_PROBES = ["unit", "package", "principal", "user", "address", "command"];

describe("every string field declares its kind", () => {
  it("has a @fieldKind tag from FIELD_KINDS in its Args doc comment", () => {
    const allowed: string[] = [...FIELD_KINDS, "user"];
    const bad = stringRows.filter((r) => !r.fieldKind || !allowed.includes(r.fieldKind)).map((r) => `${r.key} (${r.fieldKind ?? "no tag"})`);
    expect(bad).toEqual([]);
    expect(stringRows.length).toBeGreaterThan(150);
  });

  it("has a probe for every field of a kind with dangerous values (or is listed as pending)", () => {
    const need = stringRows.filter((r) => KINDS_WITH_PROBES.includes(r.fieldKind ?? "")).map((r) => r.key);
    expect(need.filter((k) => !PROBES[k] && !PROBE_PENDING.has(k))).toEqual([]);
    expect([...PROBE_PENDING].filter((k) => PROBES[k] || !need.includes(k))).toEqual([]);
    expect(Object.keys(PROBES).filter((k) => !need.includes(k))).toEqual([]);
  });

  it("prints the count of fields per kind (for the closing note)", () => {
    const count: Record<string, number> = {};
    for (const r of stringRows) count[r.fieldKind ?? "none"] = (count[r.fieldKind ?? "none"] ?? 0) + 1;
    console.log(`string fields per @fieldKind (${stringRows.length} in all): ${JSON.stringify(count)}; probed here: ${Object.keys(PROBES).length}`);
    expect(Object.values(count).reduce((a, b) => a + b, 0)).toBe(stringRows.length);
  });
});

/** The value as a message shows it (control characters escaped, as formatProblem writes them). */
const shown = (v: string) => escapeControl(v);

const cases = Object.entries(PROBES).flatMap(([key, probe]) => {
  const kind = stringRows.find((r) => r.key === key)?.fieldKind ?? "free";
  return DANGEROUS[kind as keyof typeof DANGEROUS].values.map((v) => ({ key, kind, v, probe }));
});

describe.each(cases)("$key ($kind) refuses $v", ({ key, kind, v, probe }) => {
  it("with a message naming the field, the value (escaped) and a fix", () => {
    const problems = probe(v);
    const field = key.slice(key.indexOf(".") + 1).replace(/\[\]/g, "");
    const hit = problems.find((p) => p.field.replace(/\[\d+\]/g, "").startsWith(field.split(".")[0]) && (kind === "command" || JSON.stringify(p.value ?? "").includes(JSON.stringify(v).slice(1, -1)) || (Array.isArray(p.value) && p.value.includes(v))));
    expect(hit).toBeDefined();
    const text = formatProblem(hit!);
    expect(text).not.toMatch(/[\n\r\0\u2028]/);
    expect(text).toContain(`'${shown(v)}'`);
    // A fix: what to write instead, or the opt-in to set.
    expect(hit!.message).toMatch(/e\.g\.|use |set |list |write |name |rename|leave|declare|must be/i);
  });
});

describe("path rows that need the write-path policy (i25b)", () => {
  const pathFields = stringRows.filter((r) => r.fieldKind === "path");
  const pending = PATH_POLICY_LANDED ? it : it.skip;
  pending.each(DANGEROUS.path.needsPathPolicy!)("every path field refuses %s (pending until PATH_POLICY_LANDED)", (v) => {
    expect(pathFields.length).toBeGreaterThan(0);
    expect(v).toBeTruthy();
  });
});

describe("the resource-name choke point", () => {
  const hostile = ["x\n*/admin@EXAMPLE.ORG *", "x]\n[global]\nroot preexec = /bin/sh", "a b", 'x"', "x\u2028y", "x{", "x;y", "x#y", "x$y", "x%y"];
  it.each(Object.keys(KINDS))("kind %s refuses a hostile spec.name at preview, naming it", async (kindId) => {
    for (const name of hostile) {
      const r = await check(kindId, { spec: {} } as never, { connection: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never, spec: { name } });
      const f = r.failures.find((x) => x.property === "name");
      expect(f).toBeDefined();
      expect(f!.reason).not.toMatch(/[\n\u2028]/);
      expect(f!.reason).toContain(shown(name));
    }
  });
  it("accepts the names kvmshare's own examples use", async () => {
    for (const name of ["data", "tank/data", "vm-01.example", "a+b/../c", "alice@EXAMPLE.ORG", "nfs/server.example.org"]) {
      const r = await check("HostPackages", { spec: {} } as never, { connection: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never, spec: { name, needs: [], packages: [], removePackages: false, recordDir: "/var/lib/kvmshare/packages" } });
      expect(r.failures.filter((f) => f.property === "name" && /letters, digits/.test(f.reason) && !/1-100/.test(f.reason))).toEqual([]);
    }
  });
});
