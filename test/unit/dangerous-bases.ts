/**
 * The dangerous-values suite's probes (test/unit/dangerous-values.test.ts): one valid base spec
 * per documented Args block, the component's own validation as its constructor and the
 * provider's check run it (secrets included), and `probeFor`, which builds the probe of any field
 * the docs reader lists (`smb.username`, `users[].name`, `vdevs[].devices`) by putting the value
 * at that place of the base, as the field's declared type says (a list gets `[v]`, a map of
 * parameters gets `v` as a key or a value). A field added to an Args block is probed the day it is
 * added; a block added to the docs needs its base here (a test fails until it has one).
 */
import { Problem, ValidationError } from "../../core/errors";
import { connectionProblems } from "../../core/validate";
import { resolveHostPackages, validateHostPackages } from "../../components/host/hostPackagesArgs";
import { resolveHostService, validateHostService } from "../../components/host/hostServiceArgs";
import { resolveKerberosRealm, validateKerberosRealm } from "../../components/kerberos/kerberosRealmArgs";
import { resolveKerberosKeytab, validateKerberosKeytab } from "../../components/kerberos/kerberosKeytabArgs";
import { resolveKerberosClient, validateKerberosClient } from "../../components/kerberos/kerberosClientArgs";
import { validateKerberosOtpUser } from "../../components/kerberos/kerberosOtpUserArgs";
import { resolveOtpRadius, validateOtpRadius } from "../../components/kerberos/otpRadiusArgs";
import { resolveSmbShare, validateSmbShare } from "../../components/smb/smbShareArgs";
import { resolveSambaServer, validateSambaServer } from "../../components/smb/sambaServerArgs";
import { resolveSmbUser, validateSmbUser } from "../../components/smb/smbUserArgs";
import { validateNfsExportArgs } from "../../components/nfs/nfsExportArgs";
import { resolveTlshd, validateTlshd } from "../../components/nfs/tlshdArgs";
import { generateKeyPairSync } from "crypto";
import { resolveKernelNfsServer, validateKernelNfsServer } from "../../components/nfs/kernelNfsServerArgs";
import { validateShareFirewall } from "../../components/firewall/shareFirewallArgs";
import { GuestMountSpec, guestMountSecretProblems, validateGuestMount } from "../../components/guest/guestMountArgs";
import { resolveMountHealth, validateMountHealth } from "../../components/guest/mountHealth";
import { validatePassthrough } from "../../components/guest/virtioFsPassthroughArgs";
import { validateHostGuestShare } from "../../components/share/hostGuestShareArgs";
import { validateNetworkTuning } from "../../components/network/networkTuningArgs";
import { validateSharePerformanceCheck } from "../../components/perf/sharePerformanceCheckArgs";
import { validateParallelTransfer } from "../../components/transfer/parallelTransferArgs";
import { validateZfsPool } from "../../components/storage/zfsPoolArgs";
import { validateZfsDataset } from "../../components/storage/zfsDatasetArgs";
import { validateZfsSnapshotPolicy } from "../../components/protection/zfsSnapshotPolicyArgs";
import { validateZfsReplication } from "../../components/protection/zfsReplicationArgs";
import { validateZfsRestoreDrill } from "../../components/protection/restoreDrillArgs";

type Args = Record<string, unknown>;

/** A certificate's PEM shape (validation checks the shape; nothing here parses the DER) and a real key. */
const PEM_CERT = `-----BEGIN CERTIFICATE-----\n${Buffer.alloc(48, 7).toString("base64")}\n-----END CERTIFICATE-----\n`;
const PEM_KEY = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

export interface Base {
  /** Valid arguments of the component (validation returns no problem). */
  args: Args;
  /**
   * Arguments merged in when the probed field lies under one of these keys (the other branch of
   * a component: `smb.*` of a mount that is virtiofs in `args`); `null` removes a key of `args`.
   */
  branches?: Record<string, Args>;
  /** The component's validation of `a`, as its constructor and the provider's check run it. */
  validate: (a: Args) => Problem[];
  /**
   * The Args field a problem's field stands for, where the validation names the resolved spec's
   * field (`name` for `poolName`) or a child component's (`SmbUser name` for `smb.username`).
   */
  fields?: Record<string, string>;
}

/** Problems of a validation that throws them (`ValidationError`) instead of returning them. */
function thrown(f: () => void): Problem[] {
  try {
    f();
    return [];
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
}

const a = <T>(x: Args) => x as unknown as T;

/** `problems` with `child:` in front of each field (a child component's refusal, mapped by `Base.fields`). */
const from = (child: string, problems: Problem[]) => problems.map((p) => ({ ...p, field: `${child}:${p.field}` }));

/**
 * HostGuestShare's validation and that of the children its legs build from the same arguments
 * (components/share/passthrough.ts, smb.ts), which refuse in their constructors at preview, and
 * the SmbUser kind's check of the password.
 */
function hostGuestShare(x: Args): Problem[] {
  const out = validateHostGuestShare("s", a(x));
  if (x.virtiofs) {
    const { tag, filesystem: _f, ninepMount: _n, ...domain } = x.virtiofs as Args;
    out.push(...from("VirtioFsPassthrough", validatePassthrough(a({ ...domain, filesystems: [{ source: x.hostPath, tag: tag ?? "s" }] }))));
  }
  const smb = x.smb as Args | undefined;
  if (smb) {
    out.push(...from("SmbUser", validateSmbUser(resolveSmbUser("s-user", { userName: smb.username as string }), { password: smb.password })));
    out.push(...from("SmbShare", validateSmbShare(resolveSmbShare("s", a({ path: x.hostPath, shareName: smb.shareName, validUsers: [smb.username], hostsAllow: [(x.guest as Args).address] })))));
  }
  return out;
}

const pick = (x: Args, keys: string[]) => Object.fromEntries(Object.entries(x).filter(([k]) => !keys.includes(k)));

const realmSecrets = (x: Args) => ({ masterKey: x.masterKey, adminPassword: x.adminPassword, radiusSecret: (x.otp as Args | undefined)?.radiusSecret });
const guestMount = (x: Args): Problem[] => {
  const { password, healthCheck, ...spec } = x;
  return [...validateGuestMount(a<GuestMountSpec>(spec)), ...guestMountSecretProblems(a<GuestMountSpec>(spec), { password }), ...(healthCheck ? validateMountHealth(resolveMountHealth(a(healthCheck as Args)), "healthCheck.") : [])];
};
const radiusSecrets = (x: Args) => {
  const s: Args = { radiusSecret: x.radiusSecret };
  for (const u of x.users as Args[]) Object.assign(s, { [`password:${u.name}`]: u.password, [`totp:${u.name}`]: u.totpSecret });
  return s;
};

/** One base per documented Args block (scripts/docs.ts BLOCKS), keyed by the block's name. */
export const BASES: Record<string, Base> = {
  ZfsPoolArgs: { args: { vdevs: [{ type: "disk", devices: ["/dev/sdb"] }], properties: { comment: "pool" } }, fields: { name: "poolName" }, validate: (x) => thrown(() => validateZfsPool("tank", a(x))) },
  ZfsDatasetArgs: { args: { datasetName: "tank/data" }, validate: (x) => thrown(() => validateZfsDataset("data", a(x))) },
  ZfsSnapshotPolicyArgs: { args: { dataset: "tank/data", scheduler: "sanoid" }, validate: (x) => thrown(() => validateZfsSnapshotPolicy("p", a(x))) },
  ZfsReplicationArgs: {
    args: { source: "tank/data", target: "backup/data", scheduler: "syncoid", intervalMinutes: 15 },
    branches: {
      sshTarget: { sshTarget: { host: "backup.example.org", keyFile: "/root/.ssh/id_ed25519" } },
      // The loop service's files are checked where they are used: with `interval`.
      textfileDir: { interval: 10, intervalMinutes: 0 },
      stateDir: { interval: 10, intervalMinutes: 0 },
    },
    validate: (x) => thrown(() => validateZfsReplication("r", a(x))),
  },
  ZfsRestoreDrillArgs: { args: { source: "tank/data", target: "backup/data" }, validate: (x) => thrown(() => validateZfsRestoreDrill("d", a(x))) },
  NfsExportArgs: {
    args: { path: "/tank/share", clients: ["192.168.122.10"] },
    branches: { ganesha: { backend: "ganesha", ganesha: { extraParameters: { Attr_Expiration_Time: "60" } } }, "clients[]": { clients: [{ host: "192.168.122.10" }] } },
    validate: (x) => validateNfsExportArgs("share", a(x)),
  },
  SambaServerArgs: { args: { extraParameters: { "socket options": "TCP_NODELAY" } }, validate: (x) => validateSambaServer(resolveSambaServer("smb", a(x))) },
  SmbShareArgs: {
    args: { path: "/tank/data", validUsers: ["alice"], hostsAllow: ["192.168.122.0/24"], extraParameters: { comment: "data" } },
    validate: (x) => validateSmbShare(resolveSmbShare("data", a(x))),
  },
  KernelNfsServerArgs: { args: {}, validate: (x) => validateKernelNfsServer(resolveKernelNfsServer("nfs", a(x))) },
  SmbUserArgs: { args: { password: "s3cret-pw" }, fields: { name: "userName" }, validate: (x) => validateSmbUser(resolveSmbUser("alice", a(pick(x, ["password"]))), { password: x.password }) },
  GuestMountArgs: {
    args: { where: "/mnt/share", smb: { server: "host.local", share: "data", username: "alice" }, password: "s3cret-pw" },
    branches: {
      nfs: { smb: null, password: null, nfs: { server: "host.local", exportPath: "/tank/share" } },
      virtiofs: { smb: null, password: null, virtiofs: { tag: "share" } },
      ninep: { smb: null, password: null, ninep: { tag: "share" } },
    },
    validate: guestMount,
  },
  VirtioFsPassthroughArgs: { args: { domain: "vm1", filesystems: [{ source: "/srv/share", tag: "share" }] }, validate: (x) => validatePassthrough(a(x)) },
  HostGuestShareArgs: {
    args: { protocol: "virtiofs", hostPath: "/srv/share", guest: {}, virtiofs: { domain: "vm1" } },
    fields: { "SmbUser:name": "smb.username", "SmbUser:password": "smb.password", "SmbShare:shareName": "smb.shareName", "VirtioFsPassthrough:": "virtiofs." },
    branches: {
      smb: { protocol: "smb", virtiofs: null, serverAddress: "192.168.122.1", guest: { address: "192.168.122.10" }, smb: { username: "alice", password: "s3cret-pw" } },
      "guest.address": { protocol: "nfs", virtiofs: null, serverAddress: "192.168.122.1" },
      serverAddress: { protocol: "nfs", virtiofs: null, guest: { address: "192.168.122.10" } },
    },
    validate: hostGuestShare,
  },
  MountHealthCheckArgs: { args: {}, validate: (x) => validateMountHealth(resolveMountHealth(a(x)), "") },
  HostPackagesArgs: { args: { packages: ["rsync"] }, validate: (x) => validateHostPackages(resolveHostPackages("p", a(x))) },
  HostServiceArgs: { args: { unit: "smbd" }, validate: (x) => validateHostService(resolveHostService("s", a(x))) },
  HostSetupOptions: { args: {}, validate: () => [] },
  SshConnectionSpec: { args: { host: "host.example.org" }, validate: (x) => connectionProblems({ kind: "ssh", ...x }).map((p) => ({ ...p, field: p.field.replace(/^connection\./, "") })) },
  KerberosRealmArgs: {
    args: { realm: "EXAMPLE.ORG", masterKey: "master-key-1", adminPassword: "admin-pw-1" },
    branches: { otp: { otp: { radiusServer: "127.0.0.1:1812", radiusSecret: "radius-secret-1" } } },
    validate: (x) => validateKerberosRealm(resolveKerberosRealm("r", a(pick(x, ["masterKey", "adminPassword"]))), realmSecrets(x)),
  },
  KerberosClientArgs: { args: { realm: "EXAMPLE.ORG", kdcs: ["kdc.example.org"] }, validate: (x) => validateKerberosClient(resolveKerberosClient("c", a(x))) },
  KerberosKeytabArgs: {
    args: { realmName: "EXAMPLE.ORG", fqdn: "nfs.example.org", adminPassword: "admin-pw-1" },
    validate: (x) => validateKerberosKeytab(resolveKerberosKeytab(a(pick(x, ["adminPassword"]))), { adminPassword: x.adminPassword }),
  },
  // The spec the component resolves from its realm (a KerberosRealm object): the fields as they arrive.
  KerberosOtpUserArgs: {
    args: { realm: "EXAMPLE.ORG", principal: "alice", tokenType: "kvmshare", krb5ConfPath: "/etc/krb5.conf", kdcConfPath: "/etc/krb5kdc/kdc.conf" },
    validate: ({ principal, radiusUser, ...x }) => validateKerberosOtpUser(a({ ...x, name: principal, radiusUser: radiusUser ?? principal })).map((p) => (p.field === "name" ? { ...p, field: "principal" } : p)),
  },
  OtpRadiusArgs: {
    args: { users: [{ name: "alice", password: "alice-pw-1", totpSecret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" }], radiusSecret: "radius-secret-1" },
    validate: (x) => validateOtpRadius(resolveOtpRadius("o", a(pick(x, ["radiusSecret"]))), radiusSecrets(x)),
  },
  // The private keys reach the kind as secrets, checked there (shape only, never shown).
  TlshdArgs: {
    args: { server: { certificate: PEM_CERT, privateKey: PEM_KEY, trustedCa: PEM_CERT }, client: { trustedCa: PEM_CERT, certificate: PEM_CERT, privateKey: PEM_KEY } },
    validate: (x) => {
      const end = (e: unknown) => e as { privateKey?: unknown } | undefined;
      return validateTlshd(resolveTlshd("t", a(x)), { "server.privateKey": end(x.server)?.privateKey, "client.privateKey": end(x.client)?.privateKey });
    },
  },
  ShareFirewallArgs: { args: { allowedSources: ["192.168.122.10"] }, validate: (x) => validateShareFirewall(a(x)) },
  NetworkTuningArgs: {
    args: { device: "eth0", mtu: 9000 },
    branches: {
      sysctl: { sysctl: { tcpCongestionControl: "bbr", extra: { "net.ipv4.tcp_mtu_probing": "1" } } },
      ethtool: { ethtool: { offloads: { tso: true } } },
      shaping: { shaping: { kind: "htb", rateMbit: 1000, classes: [{ id: 16, rateMbit: 100, matchDst: ["192.168.122.10"] }], defaultClass: 16 } },
      bootUnit: { bootUnit: {} },
    },
    validate: (x) => validateNetworkTuning("t", a(x)),
  },
  SharePerformanceCheckArgs: {
    args: { path: "/mnt/share" },
    branches: { loss: { loss: { target: "192.168.122.1" } }, fio: { fio: { blockSize: "4k", sizePerJob: "256M" } }, thresholds: { thresholds: { preset: "reference" } } },
    validate: (x) => validateSharePerformanceCheck("p", a(x)),
  },
  ParallelTransferArgs: { args: { source: "/usr/share/doc", destination: "/srv/dst" }, validate: (x) => validateParallelTransfer(a(x)) },
};

const clone = <T>(x: T): T => (x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T));

/** How many list levels a declared type has (`string[]` 1, `string[][]` 2, `Input<Input<string>[]>` 1). */
const listDepth = (type: string) => (type.match(/\[\]/g) ?? []).length;

/**
 * The field's value as its declared type holds `v`: a list gets `[v]`, a map of parameters gets
 * `v` as a key (`asKey`: a parameter name, or a map whose values are not text) or as the value of
 * the base's first key, anything else `v` itself.
 */
function holding(type: string, v: string, asKey: boolean, current: unknown): unknown {
  const map = /^(Input<)?Record<string, (.*)>>?$/.exec(type);
  if (map) {
    const first = current && typeof current === "object" ? Object.keys(current)[0] : undefined;
    if (asKey || !/\bstring\b/.test(map[2]) || first === undefined) return { [v]: /\bboolean\b/.test(map[2]) && !/\bstring\b/.test(map[2]) ? true : "/bin/sh -c id" };
    return { [first]: v };
  }
  let out: unknown = v;
  for (let i = 0; i < listDepth(type); i++) out = [out];
  return out;
}

/**
 * The arguments of `block` with `field` (the docs reader's dotted name) set to `v`, the rest the
 * base (and its branch for that field). Undefined when the block has no base.
 */
export function argsWith(block: string, field: string, type: string, v: string, asKey = false): Args | undefined {
  const base = BASES[block];
  if (!base) return undefined;
  const branch = Object.entries(base.branches ?? {}).find(([k]) => field === k || field.startsWith(`${k}.`));
  const args: Args = { ...clone(base.args), ...clone(branch?.[1] ?? {}) };
  for (const k of Object.keys(args)) if (args[k] === null) delete args[k];
  const segs = field.split(".");
  let at: Args = args;
  for (const seg of segs.slice(0, -1)) {
    const list = seg.endsWith("[]");
    const key = list ? seg.slice(0, -2) : seg;
    if (list) {
      const first = Array.isArray(at[key]) ? (at[key] as Args[])[0] : undefined;
      const el: Args = typeof first === "object" && first !== null ? first : {};
      at[key] = [el];
      at = el;
    } else {
      if (typeof at[key] !== "object" || at[key] === null || Array.isArray(at[key])) at[key] = {};
      at = at[key] as Args;
    }
  }
  const last = segs[segs.length - 1].replace(/\[\]$/, "");
  at[last] = holding(type, v, asKey, at[last]);
  return args;
}

/** The probe of one field: validation of the base with the field set to `v`. */
export function probeFor(block: string, field: string, type: string, asKey = false): ((v: string) => Problem[]) | undefined {
  const base = BASES[block];
  if (!base) return undefined;
  const rename = (f: string) => {
    const hit = Object.entries(base.fields ?? {}).find(([from]) => f === from || (from.endsWith(":") && f.startsWith(from)) || f.startsWith(`${from}.`) || f.startsWith(`${from}[`));
    return hit ? hit[1] + f.slice(hit[0].length) : f;
  };
  return (v) => base.validate(argsWith(block, field, type, v, asKey)!).map((p) => ({ ...p, field: rename(p.field) }));
}
