/**
 * The write-path policy (core/writePaths.ts): its table row by row, each use of a path field,
 * and every path field of every component, which must refuse a system path at preview.
 */
import { PathUse, SYSTEM_PATHS, TOOL_PATH, pathOverlap, writePathProblem } from "../../core/writePaths";
import { Checker } from "../../core/validate";
import { Problem } from "../../core/errors";
import { validateManagedFile } from "../../components/files/managedFileArgs";
import { validateMountHealth } from "../../components/guest/mountHealth";
import { GuestMountSpec, validateGuestMount } from "../../components/guest/guestMountArgs";
import { validatePassthrough } from "../../components/guest/virtioFsPassthroughArgs";
import { validatePoolSpec } from "../../components/storage/zfsPoolArgs";
import { validateProperties } from "../../components/storage/zfsProps";
import { validateReplicationSpec } from "../../components/protection/zfsReplicationArgs";
import { validateSnapshotPolicySpec } from "../../components/protection/zfsSnapshotPolicyArgs";
import { validateRestoreDrillSpec } from "../../components/protection/restoreDrillArgs";
import { validateTransferSpec } from "../../components/transfer/parallelTransferArgs";
import { validateKerberosKeytab } from "../../components/kerberos/kerberosKeytabArgs";
import { resolveKerberosRealm, validateKerberosRealm } from "../../components/kerberos/kerberosRealmArgs";
import { resolveKerberosClient, validateKerberosClient } from "../../components/kerberos/kerberosClientArgs";
import { resolveOtpRadius, validateOtpRadius } from "../../components/kerberos/otpRadiusArgs";
import { validateHostGuestShare } from "../../components/share/hostGuestShareArgs";
import { validateNetworkTuning } from "../../components/network/networkTuningArgs";
import { resolveSmbShare, validateSmbShare } from "../../components/smb/smbShareArgs";
import { resolveSambaServer, validateSambaServer } from "../../components/smb/sambaServerArgs";
import { validateSmbUser } from "../../components/smb/smbUserArgs";
import { validateNfsExportArgs } from "../../components/nfs/nfsExportArgs";
import { validateKernelNfsServer } from "../../components/nfs/kernelNfsServerArgs";
import { validateHostPackages } from "../../components/host/hostPackagesArgs";
import { validateShareFirewall } from "../../components/firewall/shareFirewallArgs";
import { validatePerfCheckOptions, validateReportFiles } from "../../perf/run";

/** A path the row's pattern matches: each `*` filled in. */
const sample = (pattern: string) => pattern.replace(/\/\*\//g, "/alice/").replace(/\.\*$/, ".bashrc").replace(/\*/g, ".d");

describe("SYSTEM_PATHS, row by row", () => {
  it.each(SYSTEM_PATHS.map((r) => [r.pattern, r.reason] as const))("%s is refused for every writing use (%s)", (pattern, reason) => {
    const p = sample(pattern);
    for (const use of ["file", "dir", "tree", "tool"] as const) {
      for (const v of [p, `${p}/kvmshare-x`]) expect(writePathProblem(v, use)).toContain(`(${pattern}: ${reason})`);
    }
    expect(writePathProblem(p, "read")).toBeUndefined();
  });

  it("every row's sample is a plain path (so the rows are tested, not the character check)", () => {
    for (const r of SYSTEM_PATHS) expect(sample(r.pattern)).toMatch(TOOL_PATH);
  });
});

describe("the values of issue 25 and the dangerous-values suite", () => {
  it.each([
    "/etc/shadow", "/etc/passwd", "/etc/group", "/etc/profile", "/etc/profile.d/x.sh", "/etc/bash.bashrc", "/etc/environment",
    "/root/.bashrc", "/root/.ssh/authorized_keys", "/home/alice/.profile", "/etc/cron.d/x", "/etc/crontab", "/var/spool/cron/crontabs/root",
    "/etc/sudoers", "/etc/sudoers.d/x", "/etc/pam.d/x", "/etc/security/limits.conf", "/etc/systemd/system/x.service",
    "/etc/systemd/system/getty@tty1.service.d/override.conf", "/run/systemd/system/x.service", "/usr/lib/systemd/system/x.service",
    "/lib/systemd/system/x.service", "/usr/lib/x", "/usr/local/bin/ls", "/etc/apt/apt.conf.d/99x", "/etc/ld.so.preload",
    "/etc/ld.so.conf.d/x.conf", "/etc/modprobe.d/x.conf", "/boot/grub/grub.cfg", "/bin/sh", "/sbin/init", "/lib64/ld-linux-x86-64.so.2",
    "/proc/sys/kernel/core_pattern", "/sys/kernel/x", "/dev/sda", "/etc/ssh/sshd_config", "/etc/update-motd.d/00-x",
  ])("%s is refused", (p) => {
    expect(writePathProblem(p, "file")).toMatch(/^is a system path kvmshare never writes \(.+\); choose a directory of your own/);
  });

  it.each([
    ["..", "/var/lib/kvmshare/../../etc/shadow"],
    [".", "/var/lib/kvmshare/./x"],
    ["//", "/var/lib//kvmshare"],
  ])("a path with %s segments is refused, by the policy and by Checker.absPath", (_what, p) => {
    expect(writePathProblem(p)).toMatch(/must not contain '\.\.', '\.' or empty segments/);
    expect(new Checker("x").absPath("f", p).problems[0].message).toMatch(/must be normalized, without '\.\.'/);
  });

  it.each([
    ["$", "/etc/krb5.keytab$(reboot)"], ["backtick", "/etc/k`reboot`"], [";", "/etc/k;reboot"], ["space", "/etc/k x"],
    ["comma", "/etc/kvmshare/a,uid=0"], ["quote", "/etc/k'x"], ["glob", "/etc/k*"], ["non-ASCII", "/etc/kéy"],
  ])("a tool path with %s is refused (TOOL_PATH), read or written", (_what, p) => {
    for (const use of ["tool", "toolRead"] as const) expect(writePathProblem(p, use)).toMatch(/must be a plain path of letters, digits/);
    expect(writePathProblem(p, "file")).toBeUndefined();
  });
});

describe("what each use allows", () => {
  it("the paths kvmshare writes by default are allowed", () => {
    const allowed: [string, PathUse][] = [
      ["/etc/krb5.conf", "file"], ["/etc/krb5.keytab", "tool"], ["/etc/krb5kdc/kvmshare-radius.secret", "tool"], ["/etc/kvmshare/data.cred", "tool"],
      ["/etc/samba/smb.conf", "file"], ["/etc/samba/kvmshare.d", "dir"], ["/etc/exports.d", "dir"], ["/etc/fstab", "file"],
      ["/etc/nfs.conf.d/kvmshare.conf", "file"], ["/etc/sysctl.d", "dir"], ["/etc/nftables.d/kvmshare.nft", "file"],
      ["/var/lib/kvmshare/drill", "dir"], ["/var/lib/prometheus/node-exporter", "dir"], ["/usr/local/lib/kvmshare", "dir"],
      ["/etc/systemd/system", "unitDir"], ["/run/systemd/system", "unitDir"], ["/etc/systemd/system/kvmshare-otp-radius.service", "unitFile"],
      ["/root/.ssh/id_ed25519", "toolRead"], ["/dev/disk/by-id/ata-x", "device"], ["/srv/share", "tree"], ["/mnt/data", "tree"], ["/tank/share", "tree"],
      ["/etc/shadow", "read"],
    ];
    for (const [p, use] of allowed) expect([p, use, writePathProblem(p, use)]).toEqual([p, use, undefined]);
  });

  it("unit directories only for unit-directory fields, unit files only when kvmshare owns the name", () => {
    expect(writePathProblem("/etc/systemd/system", "dir")).toMatch(/\/etc\/systemd:/);
    expect(writePathProblem("/etc/systemd/system.conf", "unitDir")).toMatch(/\/etc\/systemd:/);
    expect(writePathProblem("/etc/systemd/system/multi-user.target.wants", "unitDir")).toMatch(/\/etc\/systemd:/);
    for (const unit of ["reboot.target", "sshd.service", "kvmshare-x.conf", "getty@tty1.service"]) {
      expect(writePathProblem(`/etc/systemd/system/${unit}`, "unitFile")).toMatch(/\/etc\/systemd:/);
    }
    expect(writePathProblem("/usr/lib/systemd/system/kvmshare-x.service", "unitFile")).toMatch(/\/usr:/);
  });

  it("a tree (mount point, export, share) may not hold system files either", () => {
    for (const p of ["/", "/etc", "/home", "/home/alice", "/root", "/var", "/var/spool", "/var/lib", "/run"]) {
      expect(writePathProblem(p, "tree")).toMatch(/^(must not be '\/'|holds system files)/);
    }
    expect(writePathProblem("/etc", "dir")).toBeUndefined();
    expect(writePathProblem("/usr/local/lib/kvmshare/x", "tree")).toBeUndefined();
  });

  it("a pool device may be under /dev, a pool file may not be a system path", () => {
    expect(writePathProblem("/dev/sdb", "device")).toBeUndefined();
    expect(writePathProblem("/etc/shadow", "device")).toMatch(/\/etc\/shadow\*:/);
    expect(writePathProblem("/dev/sdb", "file")).toMatch(/\/dev:/);
  });
});

describe("pathOverlap", () => {
  it.each([
    ["/srv/a", "/srv/a", /is the source itself/],
    ["/srv/a/", "/srv/a", /is the source itself/],
    ["/srv/a", "/srv/a/copy", /is inside the source/],
    ["/", "/srv/x", /is inside the source/],
    ["/srv/a/b", "/srv/a", /holds the source/],
  ])("%s -> %s", (s, d, re) => expect(pathOverlap(s, d)).toMatch(re));
  it("apart or not both absolute: no overlap", () => {
    expect(pathOverlap("/srv/a", "/srv/ab")).toBeUndefined();
    expect(pathOverlap("/srv/ab", "/srv/a")).toBeUndefined();
    expect(pathOverlap("/srv/a", undefined)).toBeUndefined();
  });
});

/** Every path field a component writes, mounts or exposes: [component, field, validate with the field set to v]. */
const m = (over: object) => over as never;
const MOUNT: GuestMountSpec = { where: "/mnt/share", smb: { server: "host.local", share: "data", username: "alice" } } as GuestMountSpec;
const realm = (over: object) => validateKerberosRealm(resolveKerberosRealm("r", m({ realm: "EXAMPLE.ORG", ...over })));
const client = (over: object) => validateKerberosClient(resolveKerberosClient("c", m({ realm: "EXAMPLE.ORG", kdcs: ["kdc.example.org"], ...over })));
const radius = (over: object) => validateOtpRadius(resolveOtpRadius("o", m({ users: [{ name: "alice" }], ...over })));
const samba = (over: object) => validateSambaServer(resolveSambaServer("smb", over));
const smbShare = (over: object) => validateSmbShare(resolveSmbShare("data", m({ path: "/tank/data", validUsers: ["alice"], hostsAllow: ["10.0.0.0/24"], ...over })));
const nfs = (over: object) => validateNfsExportArgs("share", m({ path: "/tank/share", clients: ["10.0.0.5"], ...over }));
const repl = (over: object) => validateReplicationSpec(m({ name: "r", source: "tank/a", target: "backup/a", scheduler: "syncoid", intervalMinutes: 15, ...over }));
const share = (over: object) => validateHostGuestShare("s", m({ protocol: "virtiofs", guest: {}, hostPath: "/srv/share", ...over }));

export const PATH_FIELDS: [string, string, (v: string) => Problem[]][] = [
  ["ManagedFile", "path", (v) => validateManagedFile({ path: v, content: "" })],
  ["GuestMount", "healthCheck.textfileDir", (v) => validateMountHealth({ textfileDir: v })],
  ["GuestMount", "healthCheck.scriptDir", (v) => validateMountHealth({ scriptDir: v })],
  ["GuestMount", "where", (v) => validateGuestMount({ ...MOUNT, where: v })],
  ["GuestMount", "root", (v) => validateGuestMount({ ...MOUNT, root: v })],
  ["GuestMount", "unitDir", (v) => validateGuestMount({ ...MOUNT, unitDir: v })],
  ["GuestMount", "fstabPath", (v) => validateGuestMount({ ...MOUNT, fstabPath: v })],
  ["GuestMount", "smb.credentialsFile", (v) => validateGuestMount({ ...MOUNT, smb: { ...MOUNT.smb!, credentialsFile: v } })],
  ["VirtioFsPassthrough", "filesystems[0].source", (v) => validatePassthrough(m({ domain: "vm", filesystems: [{ source: v, tag: "t" }] }))],
  ["ZfsPool", "mountpoint", (v) => validatePoolSpec(m({ name: "tank", vdevs: [{ type: "disk", devices: ["/dev/sdb"] }], mountpoint: v }))],
  ["ZfsPool", "vdevs[0].devices[0]", (v) => validatePoolSpec(m({ name: "tank", vdevs: [{ type: "disk", devices: [v] }] }))],
  ["ZfsPool", "properties.cachefile", (v) => validatePoolSpec(m({ name: "tank", vdevs: [{ type: "disk", devices: ["/dev/sdb"] }], properties: { cachefile: v } }))],
  ["ZfsDataset", "properties.mountpoint", (v) => validateProperties({ mountpoint: v }, "properties.")],
  ["ZfsReplication", "root", (v) => repl({ root: v, activation: "enable" })],
  ["ZfsSnapshotPolicy", "root", (v) => validateSnapshotPolicySpec(m({ name: "p", datasets: ["tank/a"], scheduler: "sanoid", root: v, activation: "enable" }))],
  ["ZfsRestoreDrill", "stateDir", (v) => validateRestoreDrillSpec(m({ name: "d", replicationName: "r", target: "backup/a", stateDir: v }))],
  ["ParallelTransfer", "destination", (v) => validateTransferSpec({ source: "/srv/src", destination: v })],
  ["KerberosKeytab", "keytabPath", (v) => validateKerberosKeytab(m({ realmName: "EXAMPLE.ORG", fqdn: "h.example.org", principals: [], keytabPath: v, krb5ConfPath: "/etc/krb5.conf" }))],
  ["KerberosKeytab", "krb5ConfPath", (v) => validateKerberosKeytab(m({ realmName: "EXAMPLE.ORG", fqdn: "h.example.org", principals: [], keytabPath: "/etc/krb5.keytab", krb5ConfPath: v }))],
  ...(["kdcConfPath", "krb5ConfPath", "databasePath", "stashPath", "aclPath", "logDir"] as const).map(
    (k) => ["KerberosRealm", k, (v: string) => realm({ [k]: v })] as [string, string, (v: string) => Problem[]],
  ),
  ["KerberosRealm", "otp.secretPath", (v) => realm({ otp: { radiusServer: "10.0.0.5:1812", secretPath: v } })],
  ["KerberosRealm", "otp.radiusServer (a socket path)", (v) => realm({ otp: { radiusServer: v } })],
  ...(["krb5ConfPath", "idmapdConfPath", "gssdConfPath"] as const).map((k) => ["KerberosClient", k, (v: string) => client({ [k]: v })] as [string, string, (v: string) => Problem[]]),
  ...(["configDir", "runDir", "unitPath"] as const).map((k) => ["OtpRadius", k, (v: string) => radius({ [k]: v })] as [string, string, (v: string) => Problem[]]),
  ["HostGuestShare", "hostPath", (v) => share({ hostPath: v })],
  ["HostGuestShare", "guest.mountPoint", (v) => share({ guest: { mountPoint: v } })],
  ["NetworkTuning", "stateDir", (v) => validateNetworkTuning("t", m({ device: "eth0", mtu: 9000, stateDir: v }))],
  ["NetworkTuning", "sysctl.dir", (v) => validateNetworkTuning("t", m({ sysctl: { dir: v, tcpCongestionControl: "bbr" } }))],
  ["NetworkTuning", "bootUnit.dir", (v) => validateNetworkTuning("t", m({ device: "eth0", mtu: 9000, bootUnit: { dir: v } }))],
  ["SmbShare", "path", (v) => smbShare({ path: v })],
  ["SmbShare", "sharesDir", (v) => smbShare({ sharesDir: v })],
  ["SmbShare", "sharesIndexPath", (v) => smbShare({ sharesIndexPath: v })],
  ...(["configPath", "sharesDir", "sharesIndexPath", "passdbPath", "stateDir", "logFile"] as const).map((k) => ["SambaServer", k, (v: string) => samba({ [k]: v })] as [string, string, (v: string) => Problem[]]),
  ["SmbUser", "configPath", (v) => validateSmbUser(m({ name: "alice", configPath: v }), { password: "pw" })],
  ["NfsExport", "path", (v) => nfs({ path: v })],
  ["NfsExport", "exportsDir", (v) => nfs({ exportsDir: v })],
  ["NfsExport", "ganesha.configPath", (v) => nfs({ backend: "ganesha", ganesha: { configPath: v } })],
  ["KernelNfsServer", "confPath", (v) => validateKernelNfsServer(m({ confPath: v }))],
  ["HostPackages", "recordDir", (v) => validateHostPackages(m({ packages: ["zfsutils-linux"], recordDir: v }))],
  ["ShareFirewall", "persistPath", (v) => validateShareFirewall({ allowedSources: ["10.0.0.5"], persistPath: v })],
  ["SharePerformanceCheck", "path", (v) => validatePerfCheckOptions(m({ path: v, name: "p" }))],
  ["SharePerformanceCheck", "reportPath", (v) => validateReportFiles({ jsonPath: v })],
  ["SharePerformanceCheck", "prometheusPath", (v) => validateReportFiles({ promPath: `${v}.prom` })],
];

describe("every path field refuses system paths at preview", () => {
  const refusal = (problems: Problem[], v: string) => problems.find((p) => (p.value === v || p.value === `${v}.prom`) && /system path kvmshare never writes|holds system files/.test(p.message));

  it.each(PATH_FIELDS)("%s.%s", (_component, _field, probe) => {
    for (const v of ["/etc/profile.d/kvmshare-x", "/etc/cron.d/kvmshare-x", "/usr/lib/kvmshare-x", "/root/.kvmshare-x"]) {
      const p = refusal(probe(v), v);
      expect([v, p?.message]).toEqual([v, expect.stringMatching(/choose a directory/)]);
    }
    // The same field with a path of its own: no such refusal (the policy, not the rest of the spec, refused it).
    expect(refusal(probe("/srv/kvmshare-x"), "/srv/kvmshare-x")).toBeUndefined();
  });

  it.each<[string, (v: string) => Problem[]]>([
    ["GuestMount.smb.credentialsFile (mount.cifs credentials=)", (v) => validateGuestMount({ ...MOUNT, smb: { ...MOUNT.smb!, credentialsFile: v } })],
    ["KerberosKeytab.keytabPath (kadmin ktadd -k)", (v) => validateKerberosKeytab(m({ realmName: "EXAMPLE.ORG", fqdn: "h.example.org", principals: [], keytabPath: v, krb5ConfPath: "/etc/krb5.conf" }))],
    ["KerberosRealm.otp.secretPath (kdc.conf secret =)", (v) => realm({ otp: { radiusServer: "10.0.0.5:1812", secretPath: v } })],
    ["ZfsReplication.sshTarget.keyFile (syncoid --sshkey)", (v) => repl({ sshTarget: { host: "backup.example.org", keyFile: v } })],
  ])("key path %s: shell, option and list syntax refused", (_field, probe) => {
    for (const v of ["/srv/$x", "/srv/`x`", "/srv/a;b", "/srv/a b", "/srv/a,b", "/srv/a|b"]) {
      expect([v, probe(v).find((p) => p.value === v)?.message]).toEqual([v, expect.stringMatching(/must be a plain path of letters, digits/)]);
    }
    expect(probe("/srv/kvmshare/key-1.pem").filter((p) => /plain path/.test(p.message))).toEqual([]);
  });

  it("read-only path fields take system paths (a program, a source, a remote path): the policy is for writes", () => {
    expect(validatePassthrough(m({ domain: "vm", filesystems: [{ source: "/srv/share", tag: "t", binaryPath: "/usr/lib/qemu/virtiofsd" }] }))).toEqual([]);
    expect(validateTransferSpec({ source: "/etc/hosts", destination: "/srv/hosts" })).toEqual([]);
  });

  it("covers the path fields counted in the closing note", () => {
    expect(PATH_FIELDS.length).toBe(57);
  });
});
