/**
 * NfsExport: the args (declared once, documented), their defaults, the resolved spec the
 * host-side kind gets (derived from the args), and validation: pure functions, every problem at
 * once, each naming the field, the value and the fix.
 */
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker, isUnknown, MAX_ID } from "../../core/validate";
import { PathUse } from "../../core/writePaths";
import { anyHostProblem, clientKind } from "../../core/clients";
import type { HostSetupArgs } from "../host";
import { checkRealm } from "../../core/validate";
import { NFS_SEC, NFS_XPRTSEC, NfsSec, NfsXprtsec } from "../../core/nfs";
import { MANAGED_GANESHA_PARAMETERS, MANAGED_KERNEL_OPTIONS, NFS_DEBIAN } from "./nfsConf";

/** Which NFS server serves the export. */
export type NfsBackend = "kernel" | "ganesha";
export type NfsAccess = "rw" | "ro";
export type NfsSquash = "root_squash" | "all_squash" | "no_root_squash";
export type { NfsSec, NfsXprtsec };

export const NFS_BACKENDS: readonly NfsBackend[] = ["kernel", "ganesha"];
export const NFS_ACCESS: readonly NfsAccess[] = ["rw", "ro"];
export const NFS_SQUASH: readonly NfsSquash[] = ["root_squash", "all_squash", "no_root_squash"];

/**
 * Options that apply to one client (or, at the export level, to every client that does not set
 * them: there they are `NfsExportArgs` fields).
 */
export interface NfsClientOptions {
  /** Read-write or read-only. @default "ro" */
  access?: NfsAccess;
  /**
   * Root (or every user) mapped to the anonymous uid. `no_root_squash` lets the client's root act
   * as root on the export and needs `acknowledgeNoRootSquash: true`. @default "root_squash"
   */
  squash?: NfsSquash;
  /** Kernel backend: reply only after data is on stable storage (`sync`); `false` writes `async`. @default true */
  sync?: boolean;
  /** Security flavours, in order of preference. @default ["sys"] */
  sec?: NfsSec[];
  /** The uid squashed users become. @default unset: the server's (65534) */
  anonuid?: number;
  /** The gid squashed users become. @default unset: the server's (65534) */
  anongid?: number;
  /**
   * Kernel backend: the RPC-with-TLS policies (RFC 9289) a client may use, rendered as
   * `xprtsec=tls:mtls` (order as given, each once): `tls` (encrypted, the server authenticated),
   * `mtls` (the client presents a certificate the server's CA signed too), `none` (no TLS). Needs
   * Linux >= 6.5 with CONFIG_NET_HANDSHAKE, nfs-utils >= 2.6.3 and `tlshd` (a `Tlshd`) on the
   * server; combines with any `sec` (krb5p over TLS is allowed). Not for backend `ganesha`.
   * @default unset: no `xprtsec=` option (the server then allows none, tls and mtls)
   */
  xprtsec?: NfsXprtsec[];
}

/** One client: a host name, an IP, a CIDR, a `*.domain` wildcard or `*` (with `allowAnyClient`). */
export interface NfsClient extends NfsClientOptions {
  /** The client: host name, IP, CIDR, `*.domain`, or `*` (needs `allowAnyClient`). @fieldKind address */
  host: string;
}

/** The client options, one flag each (the compiler keeps this in step with NfsClientOptions). */
const CLIENT_OPTIONS: Record<keyof NfsClientOptions, true> = { access: true, squash: true, sync: true, sec: true, anonuid: true, anongid: true, xprtsec: true };

/** The client options without a default (unset: the server's own). */
type ClientUnset = "anonuid" | "anongid" | "xprtsec";

/** A client with every option resolved. */
export type ResolvedNfsClient = Resolved<NfsClient, ClientUnset>;

const NFS_CLIENT_DEFAULTS: Defaults<NfsClientOptions, ClientUnset> = { access: "ro", squash: "root_squash", sync: true, sec: ["sys"] };

/** Kernel-backend settings. */
export interface NfsKernelArgs {
  /** The main exports file, read by the check so conflicts with it are found ("" = none). @default "/etc/exports" @fieldKind path read */
  mainExportsFile?: string;
  /** Further `exports(5)` options for every client, e.g. `["crossmnt"]`. @default []: none @fieldKind free */
  extraOptions?: string[];
  /** The export table `exportfs` writes; read to report clients that are not active ("" = not read). @default "/var/lib/nfs/etab" @fieldKind path read */
  etabPath?: string;
}

const NFS_KERNEL_DEFAULTS: Defaults<NfsKernelArgs> = { mainExportsFile: NFS_DEBIAN.mainExportsFile, extraOptions: [], etabPath: NFS_DEBIAN.etabPath };

/** NFS-Ganesha settings. */
export interface NfsGaneshaArgs {
  /** `Export_Id`, unique on the server (1-65535). @default a stable hash of the export name (1000-60999) */
  exportId?: number;
  /** The NFSv4 pseudo path clients mount. @default the export path @fieldKind path read */
  pseudo?: string;
  /** The main ganesha config; it must include the exports directory with `%dir`. @default "/etc/ganesha/ganesha.conf" @fieldKind path file */
  configPath?: string;
  /** Further EXPORT block parameters (e.g. `{ Attr_Expiration_Time: "60" }`). @default {}: none @fieldKind free */
  extraParameters?: Record<string, string>;
}

const NFS_GANESHA_DEFAULTS: Defaults<NfsGaneshaArgs, "exportId" | "pseudo"> = { configPath: NFS_DEBIAN.ganeshaConfigPath, extraParameters: {} };

export interface NfsExportArgs extends NfsClientOptions, HostSetupArgs {
  /** The NFS server. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The directory to export (absolute; must exist on the host), e.g. a ZfsDataset's mountpoint output. @fieldKind path tree */
  path: pulumi.Input<string>;
  /**
   * Who may mount it: host names, IPs, CIDRs (`192.168.122.0/24`), `*.domain`, or `*` (needs
   * `allowAnyClient`); an entry may be an object overriding the export-wide options (`access`,
   * `squash`, `sync`, `sec`, `anonuid`, `anongid`, `xprtsec`, which apply to the clients that do not set them).
   * An entry may be an Output of another resource (a guest's address from the resource that made
   * the VM): it is validated by the provider's check once known, so preview still lists problems.
   * @fieldKind address
   */
  clients: pulumi.Input<string | NfsClient>[];
  /** `kernel` (nfsd, `exports.d`) or `ganesha` (NFS-Ganesha EXPORT block). @default "kernel" */
  backend?: NfsBackend;
  /** Name of the export file on the host (`<exportName>.exports` / `.conf`). @default the resource name @fieldKind name */
  exportName?: string;
  /** Kernel: `fsid=` (integer, `root` or UUID; needed for exports of FUSE/ZFS file systems without a stable UUID). @default unset: no fsid= option @fieldKind name */
  fsid?: number | string;
  /** Ganesha: serve NFSv4.x only (`Protocols = 4`); `false` adds NFSv3. @default true */
  nfsv4Only?: boolean;
  /** Allow the client `*` (every host that can reach the server). @default false */
  allowAnyClient?: boolean;
  /** Allow `no_root_squash` (or `anonuid: 0`): root on the client is root on the export. @default false */
  acknowledgeNoRootSquash?: boolean;
  /** Directory of the export files. @default "/etc/exports.d" (kernel), "/etc/ganesha/kvmshare.d" (ganesha) @fieldKind path dir */
  exportsDir?: string;
  /** argv run after the export file changed or was removed. @default ["exportfs","-ra"] (kernel), ["systemctl","reload","nfs-ganesha"] (ganesha) @fieldKind free argv */
  reloadCommand?: string[];
  /** Have the server's own parser accept the file before it goes live (needs root for `unshare`). @default true */
  check?: boolean;
  /** Kernel-backend settings. @default {}: every kernel setting at its default */
  kernel?: NfsKernelArgs;
  /** NFS-Ganesha settings. @default {}: every ganesha setting at its default */
  ganesha?: NfsGaneshaArgs;
  /**
   * The Kerberos realm this server takes part in: pass the `realm` of the `KerberosClient` on this
   * host (krb5.conf, idmapd domain) whose `KerberosKeytab` holds `nfs/<fqdn>`. Required when any
   * client's `sec` lists krb5, krb5i or krb5p. @default unset: no Kerberos; only `sec: ["sys"]`
   * @fieldKind name
   */
  kerberosRealm?: string;
}

/** NfsExport args as plain values (what the validators see). */
export type PlainNfsExportArgs = Plain<Omit<NfsExportArgs, "connection" | "hostSetup" | "clients">> & { clients: (string | NfsClient)[] };

/** The export-level fields with a fixed default (the others depend on the backend or the name). */
type FixedDefaults = "backend" | "allowAnyClient" | "acknowledgeNoRootSquash" | "check";

const NFS_EXPORT_DEFAULTS: Defaults<Pick<PlainNfsExportArgs, FixedDefaults>> = { backend: "kernel", allowAnyClient: false, acknowledgeNoRootSquash: false, check: true };

/**
 * What the host-side kind gets: every default resolved (plain JSON). The kernel and ganesha
 * settings are flattened in (only the chosen backend's are present); `ganesha.configPath` is
 * `ganeshaConfigPath`, `nfsv4Only` becomes `protocols`.
 */
export type NfsExportSpec = Resolved<Pick<PlainNfsExportArgs, FixedDefaults | "path" | "exportsDir" | "reloadCommand">> & {
  /** File name stem and identity of the export on the host (the resolved `exportName`). */
  name: string;
  clients: ResolvedNfsClient[];
  /** The export file: `<exportsDir>/<name>.exports` (kernel) or `.conf` (ganesha). */
  file: string;
  /** Kernel `fsid=` as a string. */
  fsid?: string;
  /** Ganesha: `Protocols` (4, or 3 and 4). */
  protocols?: number[];
  /** Ganesha: the main config, which must include `exportsDir` (`%dir`). */
  ganeshaConfigPath?: string;
  /** The Kerberos realm (set only when given). */
  kerberosRealm?: string;
} & Partial<Resolved<NfsKernelArgs>> &
  Partial<Resolved<Omit<NfsGaneshaArgs, "configPath">>>;

/** A stable default ganesha Export_Id for a name (1000-60999), so ids survive re-ordering. */
export function defaultExportId(name: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(name, "utf8")) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1000 + (h % 60000);
}

function resolveClient(c: string | NfsClient, d: NfsClientOptions): ResolvedNfsClient {
  const o: NfsClient = typeof c === "string" ? { host: c } : c;
  const options: NfsClientOptions = {};
  for (const k of Object.keys(CLIENT_OPTIONS) as (keyof NfsClientOptions)[]) (options as Record<string, unknown>)[k] = o[k] ?? d[k];
  // host first: the spec is compared as JSON, key order included.
  return { host: o.host, ...resolveDefaults<NfsClientOptions, ClientUnset>(options, NFS_CLIENT_DEFAULTS) };
}

/** Fill every default: the spec the host-side kind gets. */
export function resolveNfsExport(name: string, a: PlainNfsExportArgs): NfsExportSpec {
  const fixed = resolveDefaults({ backend: a.backend, allowAnyClient: a.allowAnyClient, acknowledgeNoRootSquash: a.acknowledgeNoRootSquash, check: a.check }, NFS_EXPORT_DEFAULTS);
  const backend = fixed.backend;
  const facts = NFS_DEBIAN[NFS_BACKENDS.includes(backend) ? backend : "kernel"];
  const exportName = a.exportName ?? name;
  const exportsDir = a.exportsDir ?? facts.exportsDir;
  const spec: NfsExportSpec = {
    name: exportName,
    backend,
    path: a.path,
    clients: (Array.isArray(a.clients) ? a.clients : []).map((c) => resolveClient(c, a)),
    allowAnyClient: fixed.allowAnyClient,
    acknowledgeNoRootSquash: fixed.acknowledgeNoRootSquash,
    exportsDir,
    file: path.posix.join(exportsDir, `${exportName}${facts.suffix}`),
    reloadCommand: a.reloadCommand ?? facts.reloadCommand,
    check: fixed.check,
  };
  if (a.kerberosRealm !== undefined) spec.kerberosRealm = a.kerberosRealm;
  if (backend === "kernel") {
    if (a.fsid !== undefined) spec.fsid = String(a.fsid);
    const k = resolveDefaults(a.kernel ?? {}, NFS_KERNEL_DEFAULTS);
    spec.mainExportsFile = k.mainExportsFile;
    spec.extraOptions = k.extraOptions;
    spec.etabPath = k.etabPath;
  } else {
    const g = resolveDefaults<NfsGaneshaArgs, "exportId" | "pseudo">(a.ganesha ?? {}, NFS_GANESHA_DEFAULTS);
    spec.exportId = g.exportId ?? defaultExportId(exportName);
    spec.pseudo = g.pseudo ?? a.path;
    spec.protocols = a.nfsv4Only === false ? [3, 4] : [4];
    spec.ganeshaConfigPath = g.configPath;
    spec.extraParameters = g.extraParameters;
  }
  return spec;
}

const UUID = /^([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[0-9a-f]{32})$/i;

/** Combinations that cannot work: one row, one message. */
const FORBIDDEN: { field: string; when: (a: PlainNfsExportArgs, b: NfsBackend) => boolean; value: (a: PlainNfsExportArgs) => unknown; message: string }[] = [
  { field: "ganesha", when: (a, b) => b === "kernel" && a.ganesha !== undefined, value: (a) => a.ganesha, message: "only applies to backend 'ganesha'; remove it or set backend: 'ganesha'" },
  { field: "kernel", when: (a, b) => b === "ganesha" && a.kernel !== undefined, value: (a) => a.kernel, message: "only applies to backend 'kernel'; remove it or set backend: 'kernel'" },
  { field: "fsid", when: (a, b) => b === "ganesha" && a.fsid !== undefined, value: (a) => a.fsid, message: "ganesha uses the file system's own id and builds the NFSv4 root itself; remove fsid (set ganesha.pseudo for the path clients see)" },
  { field: "nfsv4Only", when: (a, b) => b === "kernel" && a.nfsv4Only !== undefined, value: (a) => a.nfsv4Only, message: "the kernel server picks NFS versions server-wide, not per export; remove nfsv4Only and declare a KernelNfsServer (nfsv4Only: true writes [nfsd] vers3=n), or use backend 'ganesha'" },
  { field: "xprtsec", when: (a, b) => b === "ganesha" && (a.xprtsec !== undefined || a.clients?.some?.((c) => typeof c === "object" && c !== null && c.xprtsec !== undefined)), value: (a) => a.xprtsec ?? a.clients.map((c) => (typeof c === "object" && c !== null ? c.xprtsec : undefined)).find((x) => x !== undefined), message: "NFS-Ganesha has no RPC-with-TLS (RFC 9289); use backend 'kernel' (Linux >= 6.5 with tlshd), or remove xprtsec" },
  { field: "sync", when: (a, b) => b === "ganesha" && (a.sync === false || a.clients?.some?.((c) => typeof c === "object" && c.sync === false)), value: () => false, message: "ganesha has no async exports (it honours the client's stable-write requests); remove sync: false" },
];


/** A path that can sit between double quotes in exports(5) and ganesha.conf. */
function quotablePath(c: Checker, field: string, v: string | undefined, use: PathUse): void {
  c.absPath(field, v, use);
  if (typeof v === "string" && !isUnknown(v) && /["\\]|[\x00-\x1f]/.test(v)) {
    c.add(field, v, "must not contain double quotes, backslashes or control characters (exports(5) and ganesha.conf cannot carry them)");
  }
}

/** An `xprtsec` list: unset, or one or more known policies (a policy listed twice is written once). */
function checkXprtsec(c: Checker, field: string, v: NfsXprtsec[] | undefined): void {
  if (v === undefined || isUnknown(v)) return;
  if (!Array.isArray(v) || v.length === 0) c.add(field, v, `must list one or more of ${NFS_XPRTSEC.join(", ")} (e.g. ["tls", "mtls"]), or be left unset for the server's default`);
  else v.forEach((x, j) => c.oneOf(`${field}[${j}]`, x, NFS_XPRTSEC));
}

/** The `xprtsec` policies as written: each once, in the order given. */
export function xprtsecList(v: readonly NfsXprtsec[]): NfsXprtsec[] {
  return [...new Set(v)];
}

/** Does any client of the export ask for TLS (`tls` or `mtls`)? */
export function usesTls(s: Pick<NfsExportSpec, "clients">): boolean {
  return s.clients.some((cl) => (cl.xprtsec ?? []).some((x) => x !== "none"));
}

/** Problems with one resolved export (pure; runs at preview and in the provider's check). */
export function validateNfsExport(s: NfsExportSpec): Problem[] {
  const c = new Checker("NfsExport");
  c.name("exportName", s.name);
  c.oneOf("backend", s.backend, NFS_BACKENDS);
  c.required("path", s.path);
  quotablePath(c, "path", s.path, "tree");
  c.absPath("exportsDir", s.exportsDir, "dir");
  c.argv("reloadCommand", s.reloadCommand, "['exportfs', '-ra']");

  if (!Array.isArray(s.clients) || s.clients.length === 0) {
    c.add("clients", s.clients, "must list at least one client (a host name, IP or CIDR such as 192.168.122.0/24); an export nobody may mount is a mistake");
  } else {
    const seen = new Map<string, number>();
    s.clients.forEach((cl, i) => {
      const f = `clients[${i}]`;
      if (isUnknown(cl.host)) return;
      const kind = typeof cl.host === "string" ? clientKind(cl.host) : "invalid";
      if (kind === "invalid") c.add(`${f}.host`, cl.host, "must be an IP address, a CIDR like 192.168.122.0/24, a host name, '*.domain' or '*'");
      if (kind === "any" && !s.allowAnyClient) c.problems.push(anyHostProblem(`${f}.host`, cl.host, "allowAnyClient"));
      if (seen.has(cl.host)) c.add(`${f}.host`, cl.host, `is listed twice (also clients[${seen.get(cl.host)}]); merge the entries into one`);
      else seen.set(cl.host, i);
      c.oneOf(`${f}.access`, cl.access, NFS_ACCESS);
      c.oneOf(`${f}.squash`, cl.squash, NFS_SQUASH);
      if (cl.squash === "no_root_squash" && !s.acknowledgeNoRootSquash) {
        c.add(`${f}.squash`, cl.squash, "lets root on the client act as root on the export; use root_squash, or set acknowledgeNoRootSquash: true if the guest is trusted that far");
      }
      if (typeof cl.sync !== "boolean") c.add(`${f}.sync`, cl.sync, "must be true or false");
      if (!Array.isArray(cl.sec) || cl.sec.length === 0) c.add(`${f}.sec`, cl.sec, `must list one or more of ${NFS_SEC.join(", ")}`);
      else {
        cl.sec.forEach((x, j) => c.oneOf(`${f}.sec[${j}]`, x, NFS_SEC));
        if (new Set(cl.sec).size !== cl.sec.length) c.add(`${f}.sec`, cl.sec, "lists a flavour twice; list each once");
        const krb = cl.sec.filter((x) => typeof x === "string" && x.startsWith("krb5"));
        if (krb.length && (s.kerberosRealm === undefined || s.kerberosRealm === "")) {
          c.add(`${f}.sec`, cl.sec, `lists ${krb.join(", ")} but this server has no Kerberos configuration: declare a KerberosClient and a KerberosKeytab (nfs/<fqdn>) for this host and set kerberosRealm: <client>.realm, or use sec: ["sys"]`);
        }
      }
      checkXprtsec(c, `${f}.xprtsec`, cl.xprtsec);
      c.int(`${f}.anonuid`, cl.anonuid, 0, MAX_ID, "a uid; 65534 is nobody");
      c.int(`${f}.anongid`, cl.anongid, 0, MAX_ID, "a gid; 65534 is nogroup");
      if (cl.anonuid === 0 && cl.squash !== "no_root_squash" && !s.acknowledgeNoRootSquash) {
        c.add(`${f}.anonuid`, 0, "maps squashed users to root, which defeats squashing; use an unprivileged uid such as 65534, or set acknowledgeNoRootSquash: true");
      }
    });
  }

  if (s.kerberosRealm !== undefined) checkRealm(c, "kerberosRealm", s.kerberosRealm);
  if (s.backend === "kernel") {
    if (s.fsid !== undefined && !isUnknown(s.fsid)) {
      const v = String(s.fsid);
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(v === "root" || UUID.test(v) || (Number.isInteger(n) && n <= 4294967295))) {
        c.add("fsid", s.fsid, "must be an integer from 0 to 4294967295, 'root' (0: the NFSv4 root) or a UUID");
      }
    }
    if (s.mainExportsFile !== undefined && s.mainExportsFile !== "") c.absPath("kernel.mainExportsFile", s.mainExportsFile, "read");
    if (s.etabPath !== undefined && s.etabPath !== "") c.absPath("kernel.etabPath", s.etabPath, "read");
    (s.extraOptions ?? []).forEach((o, i) => {
      const f = `kernel.extraOptions[${i}]`;
      if (typeof o !== "string" || !/^[a-z_]+(=[A-Za-z0-9_:.\/@-]+)?$/.test(o) || o.length > 1024) {
        c.add(f, o, "must be one exports(5) option such as 'crossmnt' or 'mountpoint=/srv' (no commas, spaces or parentheses; at most 1024 characters)");
      } else {
        const key = o.split("=")[0];
        if (key in MANAGED_KERNEL_OPTIONS) c.add(f, o, `is set by the '${MANAGED_KERNEL_OPTIONS[key]}' field; use that instead`);
      }
    });
  }
  if (s.backend === "ganesha") {
    c.int("ganesha.exportId", s.exportId, 1, 65535, "0 is ganesha's pseudo root; each export needs its own id");
    quotablePath(c, "ganesha.pseudo", s.pseudo, "read");
    if (s.pseudo === "/") c.add("ganesha.pseudo", s.pseudo, "is the NFSv4 pseudo root ganesha builds itself; use a path below it such as '/data'");
    c.absPath("ganesha.configPath", s.ganeshaConfigPath);
    for (const [k, v] of Object.entries(s.extraParameters ?? {})) {
      const f = `ganesha.extraParameters.${k}`;
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(k)) c.add(f, k, "must be a ganesha parameter name (letters, digits, '_')");
      else if (k.toLowerCase() in MANAGED_GANESHA_PARAMETERS) c.add(f, k, `is set by the '${MANAGED_GANESHA_PARAMETERS[k.toLowerCase()]}' field; use that instead`);
      if (typeof v !== "string" || !/^[A-Za-z0-9_.,:\/ -]+$/.test(v) || v.length > 1024) c.add(f, v, "must be a plain value (letters, digits, '_.,:/ -'; no quotes, braces or ';'; at most 1024 characters)");
    }
  }
  return c.problems;
}

const CLIENT_OPTION_FIELD = new RegExp(`^clients\\[(\\d+)\\]\\.(${Object.keys(CLIENT_OPTIONS).join("|")})(.*)$`);

/** Every problem with plain args: forbidden combinations, then the resolved spec. */
export function validateNfsExportArgs(name: string, a: PlainNfsExportArgs): Problem[] {
  const c = new Checker("NfsExport");
  const backend = a.backend ?? "kernel";
  for (const row of FORBIDDEN) if (NFS_BACKENDS.includes(backend) && row.when(a, backend)) c.add(row.field, row.value(a), row.message);
  if (!Array.isArray(a.clients)) c.add("clients", a.clients, "must be a list of clients (host names, IPs or CIDRs)");
  else {
    a.clients.forEach((cl, i) => {
      if (typeof cl !== "string" && (typeof cl !== "object" || cl === null || typeof cl.host !== "string")) {
        c.add(`clients[${i}]`, cl, "must be a host/IP/CIDR string or { host, access?, squash?, ... }");
      }
    });
  }
  if (c.problems.some((p) => p.field.startsWith("clients["))) return c.problems;
  // A client option inherited from the export-wide arg is reported once, under that arg's name.
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const p of [...c.problems, ...validateNfsExport(resolveNfsExport(name, a))]) {
    const m = CLIENT_OPTION_FIELD.exec(p.field);
    const cl = m ? a.clients[Number(m[1])] : undefined;
    const inherited = m && (typeof cl === "string" || (cl as NfsClient)[m[2] as keyof NfsClient] === undefined);
    const q = inherited ? { ...p, field: `${m![2]}${m![3]}` } : p;
    const key = `${q.field}\0${q.message}`;
    if (!seen.has(key)) out.push(q);
    seen.add(key);
  }
  return out;
}

function optionKey(cl: ResolvedNfsClient): string {
  return JSON.stringify([cl.access, cl.squash, cl.sync, cl.sec, cl.anonuid ?? null, cl.anongid ?? null, cl.xprtsec ?? null]);
}

/**
 * Problems between two exports on the same server: the same path exported to the same client
 * with different options (the kernel refuses such duplicates), the same ganesha pseudo path or
 * Export_Id, or the same export file.
 */
export function conflictsBetween(a: NfsExportSpec, b: NfsExportSpec, otherLabel: string): Problem[] {
  const c = new Checker("NfsExport");
  if (a.file === b.file) c.add("exportName", a.name, `writes the same file ${a.file} as ${otherLabel}; give one of them another exportName`);
  if (a.backend !== b.backend) return c.problems;
  if (a.backend === "ganesha") {
    if (a.exportId === b.exportId) c.add("ganesha.exportId", a.exportId, `is also used by ${otherLabel}; give each export its own id`);
    if (a.pseudo === b.pseudo) c.add("ganesha.pseudo", a.pseudo, `is also the pseudo path of ${otherLabel}; each export needs its own`);
  }
  if (a.path === b.path) {
    for (const ca of a.clients) {
      const cb = b.clients.find((x) => x.host === ca.host);
      if (cb && optionKey(ca) !== optionKey(cb)) {
        c.add("clients", ca.host, `${a.path} is also exported to ${ca.host} by ${otherLabel} with other options (${cb.access}, ${cb.squash}); use one export per path and client, or make the options equal`);
      }
    }
  }
  return c.problems;
}
