/**
 * NfsExport validation: pure functions, every problem at once, each naming the field, the value
 * and the fix. `resolveNfsExport` turns plain args into the fully defaulted spec.
 */
import * as path from "path";
import { Problem } from "../../core/errors";
import { Checker, isUnknown } from "../../core/validate";
import { clientKind } from "../../core/clients";
import {
  DEFAULT_ETAB,
  DEFAULT_GANESHA_CONFIG,
  DEFAULT_MAIN_EXPORTS,
  defaultExportId,
  MANAGED_GANESHA_PARAMETERS,
  MANAGED_KERNEL_OPTIONS,
  NFS_ACCESS,
  NFS_BACKEND_DEFAULTS,
  NFS_BACKENDS,
  NFS_SEC,
  NFS_SQUASH,
  NfsBackend,
  NfsClient,
  NfsClientOptions,
  NfsExportSpec,
  ResolvedNfsClient,
} from "./nfsSpec";

/** Kernel-backend settings. */
export interface NfsKernelArgs {
  /** The main exports file, read by the check so conflicts with it are found ("" = none). @default "/etc/exports" */
  mainExportsFile?: string;
  /** Further `exports(5)` options for every client, e.g. `["crossmnt"]`. @default [] */
  extraOptions?: string[];
  /** The export table `exportfs` writes; read to report clients that are not active ("" = not read). @default "/var/lib/nfs/etab" */
  etabPath?: string;
}

/** NFS-Ganesha settings. */
export interface NfsGaneshaArgs {
  /** `Export_Id`, unique on the server (1-65535). @default a stable hash of the export name (1000-60999) */
  exportId?: number;
  /** The NFSv4 pseudo path clients mount. @default the export path */
  pseudo?: string;
  /** The main ganesha config; it must include the exports directory with `%dir`. @default "/etc/ganesha/ganesha.conf" */
  configPath?: string;
  /** Further EXPORT block parameters (e.g. `{ Attr_Expiration_Time: "60" }`). @default {} */
  extraParameters?: Record<string, string>;
}

/** NfsExport args as plain values (what the validators see). */
export interface PlainNfsExportArgs extends NfsClientOptions {
  exportName?: string;
  backend?: NfsBackend;
  path: string;
  clients: (string | NfsClient)[];
  fsid?: number | string;
  nfsv4Only?: boolean;
  allowAnyClient?: boolean;
  acknowledgeNoRootSquash?: boolean;
  exportsDir?: string;
  reloadCommand?: string[];
  check?: boolean;
  kernel?: NfsKernelArgs;
  ganesha?: NfsGaneshaArgs;
}

const UUID = /^([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|[0-9a-f]{32})$/i;

/** Combinations that cannot work: one row, one message. */
const FORBIDDEN: { field: string; when: (a: PlainNfsExportArgs, b: NfsBackend) => boolean; value: (a: PlainNfsExportArgs) => unknown; message: string }[] = [
  { field: "ganesha", when: (a, b) => b === "kernel" && a.ganesha !== undefined, value: (a) => a.ganesha, message: "only applies to backend 'ganesha'; remove it or set backend: 'ganesha'" },
  { field: "kernel", when: (a, b) => b === "ganesha" && a.kernel !== undefined, value: (a) => a.kernel, message: "only applies to backend 'kernel'; remove it or set backend: 'kernel'" },
  { field: "fsid", when: (a, b) => b === "ganesha" && a.fsid !== undefined, value: (a) => a.fsid, message: "ganesha uses the file system's own id and builds the NFSv4 root itself; remove fsid (set ganesha.pseudo for the path clients see)" },
  { field: "nfsv4Only", when: (a, b) => b === "kernel" && a.nfsv4Only !== undefined, value: (a) => a.nfsv4Only, message: "the kernel server picks NFS versions server-wide, not per export; remove nfsv4Only and declare a KernelNfsServer (nfsv4Only: true writes [nfsd] vers3=n), or use backend 'ganesha'" },
  { field: "sync", when: (a, b) => b === "ganesha" && (a.sync === false || a.clients?.some?.((c) => typeof c === "object" && c.sync === false)), value: () => false, message: "ganesha has no async exports (it honours the client's stable-write requests); remove sync: false" },
];

function resolveClient(c: string | NfsClient, d: PlainNfsExportArgs): ResolvedNfsClient {
  const o: NfsClient = typeof c === "string" ? { host: c } : c;
  const r: ResolvedNfsClient = {
    host: o.host,
    access: o.access ?? d.access ?? "ro",
    squash: o.squash ?? d.squash ?? "root_squash",
    sync: o.sync ?? d.sync ?? true,
    sec: o.sec ?? d.sec ?? ["sys"],
  };
  const anonuid = o.anonuid ?? d.anonuid;
  const anongid = o.anongid ?? d.anongid;
  if (anonuid !== undefined) r.anonuid = anonuid;
  if (anongid !== undefined) r.anongid = anongid;
  return r;
}

/** Fill every default: the spec the host-side kind gets. */
export function resolveNfsExport(name: string, a: PlainNfsExportArgs): NfsExportSpec {
  const backend = a.backend ?? "kernel";
  const defaults = NFS_BACKEND_DEFAULTS[backend] ?? NFS_BACKEND_DEFAULTS.kernel;
  const exportName = a.exportName ?? name;
  const exportsDir = a.exportsDir ?? defaults.exportsDir;
  const spec: NfsExportSpec = {
    name: exportName,
    backend,
    path: a.path,
    clients: (Array.isArray(a.clients) ? a.clients : []).map((c) => resolveClient(c, a)),
    allowAnyClient: a.allowAnyClient ?? false,
    acknowledgeNoRootSquash: a.acknowledgeNoRootSquash ?? false,
    exportsDir,
    file: path.posix.join(exportsDir, `${exportName}${defaults.suffix}`),
    reloadCommand: a.reloadCommand ?? defaults.reloadCommand,
    check: a.check ?? true,
  };
  if (backend === "kernel") {
    if (a.fsid !== undefined) spec.fsid = String(a.fsid);
    spec.mainExportsFile = a.kernel?.mainExportsFile ?? DEFAULT_MAIN_EXPORTS;
    spec.extraOptions = a.kernel?.extraOptions ?? [];
    spec.etabPath = a.kernel?.etabPath ?? DEFAULT_ETAB;
  } else {
    spec.exportId = a.ganesha?.exportId ?? defaultExportId(exportName);
    spec.pseudo = a.ganesha?.pseudo ?? a.path;
    spec.protocols = a.nfsv4Only === false ? [3, 4] : [4];
    spec.ganeshaConfigPath = a.ganesha?.configPath ?? DEFAULT_GANESHA_CONFIG;
    spec.extraParameters = a.ganesha?.extraParameters ?? {};
  }
  return spec;
}

function argv(c: Checker, field: string, v: unknown): void {
  if (!Array.isArray(v) || !v.length || v.some((x) => typeof x !== "string" || x === "")) {
    c.add(field, v, "must be a non-empty argv array of strings, e.g. ['exportfs', '-ra']");
  }
}

/** A path that can sit between double quotes in exports(5) and ganesha.conf. */
function quotablePath(c: Checker, field: string, v: string | undefined): void {
  c.absPath(field, v);
  if (typeof v === "string" && !isUnknown(v) && /["\\]|[\x00-\x1f]/.test(v)) {
    c.add(field, v, "must not contain double quotes, backslashes or control characters (exports(5) and ganesha.conf cannot carry them)");
  }
}

/** Problems with one resolved export (pure; runs at preview and in the provider's check). */
export function validateNfsExport(s: NfsExportSpec): Problem[] {
  const c = new Checker("NfsExport");
  c.name("exportName", s.name);
  c.oneOf("backend", s.backend, NFS_BACKENDS);
  c.required("path", s.path);
  quotablePath(c, "path", s.path);
  c.absPath("exportsDir", s.exportsDir);
  argv(c, "reloadCommand", s.reloadCommand);

  if (!Array.isArray(s.clients) || s.clients.length === 0) {
    c.add("clients", s.clients, "must list at least one client (a host name, IP or CIDR such as 192.168.122.0/24); an export nobody may mount is a mistake");
  } else {
    const seen = new Map<string, number>();
    s.clients.forEach((cl, i) => {
      const f = `clients[${i}]`;
      if (isUnknown(cl.host)) return;
      const kind = typeof cl.host === "string" ? clientKind(cl.host) : "invalid";
      if (kind === "invalid") c.add(`${f}.host`, cl.host, "must be an IP address, a CIDR like 192.168.122.0/24, a host name, '*.domain' or '*'");
      if (kind === "any" && !s.allowAnyClient) {
        c.add(`${f}.host`, cl.host, "exports to every host on the network; list the guests' addresses, or set allowAnyClient: true if that is really meant");
      }
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
      }
      c.int(`${f}.anonuid`, cl.anonuid, 0, 4294967294, "a uid; 65534 is nobody");
      c.int(`${f}.anongid`, cl.anongid, 0, 4294967294, "a gid; 65534 is nogroup");
      if (cl.anonuid === 0 && cl.squash !== "no_root_squash" && !s.acknowledgeNoRootSquash) {
        c.add(`${f}.anonuid`, 0, "maps squashed users to root, which defeats squashing; use an unprivileged uid such as 65534, or set acknowledgeNoRootSquash: true");
      }
    });
  }

  if (s.backend === "kernel") {
    if (s.fsid !== undefined && !isUnknown(s.fsid)) {
      const v = String(s.fsid);
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(v === "root" || UUID.test(v) || (Number.isInteger(n) && n <= 4294967295))) {
        c.add("fsid", s.fsid, "must be an integer from 0 to 4294967295, 'root' (0: the NFSv4 root) or a UUID");
      }
    }
    if (s.mainExportsFile !== undefined && s.mainExportsFile !== "") c.absPath("kernel.mainExportsFile", s.mainExportsFile);
    if (s.etabPath !== undefined && s.etabPath !== "") c.absPath("kernel.etabPath", s.etabPath);
    (s.extraOptions ?? []).forEach((o, i) => {
      const f = `kernel.extraOptions[${i}]`;
      if (typeof o !== "string" || !/^[a-z_]+(=[A-Za-z0-9_:.\/@-]+)?$/.test(o)) {
        c.add(f, o, "must be one exports(5) option such as 'crossmnt' or 'mountpoint=/srv' (no commas, spaces or parentheses)");
      } else {
        const key = o.split("=")[0];
        if (key in MANAGED_KERNEL_OPTIONS) c.add(f, o, `is set by the '${MANAGED_KERNEL_OPTIONS[key]}' field; use that instead`);
      }
    });
  }
  if (s.backend === "ganesha") {
    c.int("ganesha.exportId", s.exportId, 1, 65535, "0 is ganesha's pseudo root; each export needs its own id");
    quotablePath(c, "ganesha.pseudo", s.pseudo);
    if (s.pseudo === "/") c.add("ganesha.pseudo", s.pseudo, "is the NFSv4 pseudo root ganesha builds itself; use a path below it such as '/data'");
    c.absPath("ganesha.configPath", s.ganeshaConfigPath);
    for (const [k, v] of Object.entries(s.extraParameters ?? {})) {
      const f = `ganesha.extraParameters.${k}`;
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(k)) c.add(f, k, "must be a ganesha parameter name (letters, digits, '_')");
      else if (k.toLowerCase() in MANAGED_GANESHA_PARAMETERS) c.add(f, k, `is set by the '${MANAGED_GANESHA_PARAMETERS[k.toLowerCase()]}' field; use that instead`);
      if (typeof v !== "string" || !/^[A-Za-z0-9_.,:\/ -]+$/.test(v)) c.add(f, v, "must be a plain value (letters, digits, '_.,:/ -'; no quotes, braces or ';')");
    }
  }
  return c.problems;
}

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
    const m = /^clients\[(\d+)\]\.(access|squash|sync|sec|anonuid|anongid)(.*)$/.exec(p.field);
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
  return JSON.stringify([cl.access, cl.squash, cl.sync, cl.sec, cl.anonuid ?? null, cl.anongid ?? null]);
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
