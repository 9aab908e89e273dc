import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { UNKNOWN } from "../../core/validate";
import { allowedHostNamesOf, allowedSourcesOf } from "../../core/clients";
import { NfsExportState } from "./nfsExportKind";
import { NfsAccess, NfsBackend, NfsClient, NfsExportSpec, NfsSec, NfsSquash } from "./nfsSpec";
import { conflictsBetween, NfsGaneshaArgs, NfsKernelArgs, resolveNfsExport, validateNfsExportArgs } from "./nfsExportArgs";

export interface NfsExportArgs {
  /** The NFS server. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The directory to export (absolute; must exist on the host), e.g. a ZfsDataset's mountpoint output. */
  path: pulumi.Input<string>;
  /**
   * Who may mount it: host names, IPs, CIDRs (`192.168.122.0/24`), `*.domain`, or `*` (needs
   * `allowAnyClient`); an entry may be an object overriding the export-wide options.
   */
  clients: (string | NfsClient)[];
  /** `kernel` (nfsd, `exports.d`) or `ganesha` (NFS-Ganesha EXPORT block). @default "kernel" */
  backend?: NfsBackend;
  /** Name of the export file on the host (`<exportName>.exports` / `.conf`). @default the resource name */
  exportName?: string;
  /** Read-write or read-only, for clients that do not set it. @default "ro" */
  access?: NfsAccess;
  /** Squashing for clients that do not set it. @default "root_squash" */
  squash?: NfsSquash;
  /** Kernel: synchronous writes, for clients that do not set it. @default true */
  sync?: boolean;
  /** Security flavours, for clients that do not set them. @default ["sys"] */
  sec?: NfsSec[];
  /** Uid squashed users become. @default the server's (65534) */
  anonuid?: number;
  /** Gid squashed users become. @default the server's (65534) */
  anongid?: number;
  /** Kernel: `fsid=` (integer, `root` or UUID; needed for exports of FUSE/ZFS file systems without a stable UUID). @default none */
  fsid?: number | string;
  /** Ganesha: serve NFSv4.x only (`Protocols = 4`); `false` adds NFSv3. @default true */
  nfsv4Only?: boolean;
  /** Allow the client `*` (every host that can reach the server). @default false */
  allowAnyClient?: boolean;
  /** Allow `no_root_squash` (or `anonuid: 0`): root on the client is root on the export. @default false */
  acknowledgeNoRootSquash?: boolean;
  /** Directory of the export files. @default "/etc/exports.d" (kernel), "/etc/ganesha/kvmshare.d" (ganesha) */
  exportsDir?: string;
  /** argv run after the export file changed or was removed. @default ["exportfs","-ra"] (kernel), ["systemctl","reload","nfs-ganesha"] (ganesha) */
  reloadCommand?: string[];
  /** Have the server's own parser accept the file before it goes live (needs root for `unshare`). @default true */
  check?: boolean;
  /** Kernel-backend settings. */
  kernel?: NfsKernelArgs;
  /** NFS-Ganesha settings. */
  ganesha?: NfsGaneshaArgs;
}

// Exports declared in this program run (one list per engine connection), to find conflicts
// between them before anything runs.
type Declared = { label: string; spec: NfsExportSpec; connection: string };
const declaredByRun = new WeakMap<object, Declared[]>();
const fallbackRun = {};

function declaredInThisRun(): Declared[] {
  let key: object = fallbackRun;
  try {
    key = (pulumi.runtime.getMonitor() as object | undefined) ?? fallbackRun;
  } catch {
    key = fallbackRun;
  }
  let list = declaredByRun.get(key);
  if (!list) declaredByRun.set(key, (list = []));
  return list;
}

function connectionKey(c: unknown): string {
  if (c === undefined) return "local";
  if (pulumi.Output.isInstance(c)) return "?";
  const spec = c as ConnectionSpec;
  return spec.kind === "ssh" ? `${spec.user ?? "root"}@${spec.host}:${spec.port ?? 22}` : "local";
}

/**
 * An NFS export of one directory to a list of guests, on the kernel NFS server or NFS-Ganesha.
 * Checked by the server's own parser before it goes live, reloaded only on change, reported as
 * drift when edited by hand. `allowedSources` feeds a firewall.
 */
export class NfsExport extends pulumi.ComponentResource {
  /** Client IPs/CIDRs (`*` becomes 0.0.0.0/0 and ::/0), for a firewall's allowed sources. */
  declare public readonly allowedSources: pulumi.Output<string[]>;
  /** Client host names and `*.domain` wildcards (a firewall must resolve them itself). */
  declare public readonly allowedHostNames: pulumi.Output<string[]>;
  /** The export file on the host. */
  declare public readonly file: pulumi.Output<string>;
  /** What clients mount: the path (kernel) or the pseudo path (ganesha). */
  declare public readonly mountPath: pulumi.Output<string>;
  /** The export file as last observed on the host. */
  declare public readonly observed: pulumi.Output<NfsExportState | null>;

  constructor(name: string, args: NfsExportArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:NfsExport", name, {}, opts);
    const knownPath = typeof args.path === "string" ? args.path : UNKNOWN;
    const plain = { ...args, path: knownPath };
    delete (plain as { connection?: unknown }).connection;
    const problems = validateNfsExportArgs(name, plain);
    const resolved = resolveNfsExport(name, plain);
    const conn = connectionKey(args.connection);
    const declared = declaredInThisRun();
    if (!problems.length && typeof args.path === "string") {
      for (const other of declared) {
        // Exports on hosts not known yet (a connection Output) are compared by the host checks instead.
        if (conn !== "?" && other.connection === conn) problems.push(...conflictsBetween(resolved, other.spec, `NfsExport '${other.label}'`));
      }
    }
    if (problems.length) throw new ValidationError(`NfsExport ${name}`, problems);
    if (typeof args.path === "string") declared.push({ label: name, spec: resolved, connection: conn });

    const spec = pulumi.output(args.path).apply((p) => resolveNfsExport(name, { ...plain, path: p }));
    const res = new HostResource<NfsExportSpec, NfsExportState>("NfsExport", require.resolve("./nfsExportKind"), `${name}-export`, { connection: args.connection, spec }, { parent: this });

    const hosts = resolved.clients.map((c) => c.host);
    this.allowedSources = pulumi.output(allowedSourcesOf(hosts));
    this.allowedHostNames = pulumi.output(allowedHostNamesOf(hosts));
    this.file = pulumi.output(resolved.file);
    this.mountPath = resolved.backend === "ganesha" ? spec.apply((s) => s.pseudo as string) : pulumi.output(args.path);
    this.observed = res.observed;
    this.registerOutputs({ allowedSources: this.allowedSources, allowedHostNames: this.allowedHostNames, file: this.file, mountPath: this.mountPath, observed: this.observed });
  }
}
