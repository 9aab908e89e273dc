import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { KernelNfsServerSpec, KernelNfsServerState, validateKernelNfsServer } from "./kernelNfsServerKind";

export interface KernelNfsServerArgs {
  /** The NFS server. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Serve NFSv4.x only (`vers3=n`, `udp=n`): no rpcbind/mountd exposure needed. @default true */
  nfsv4Only?: boolean;
  /** Refuse NFSv4.0 too (4.1+ only). @default false */
  disableNfs40?: boolean;
  /** nfsd threads. @default the distribution's (8) */
  threads?: number;
  /** The drop-in file (nfs-utils >= 2.5 reads /etc/nfs.conf.d/*.conf). @default "/etc/nfs.conf.d/kvmshare.conf" */
  confPath?: string;
  /** argv run when the file changed; NFS versions need an nfsd restart. @default ["systemctl","restart","nfs-server"] */
  restartCommand?: string[];
  /** Check the file with `nfsconf --dump` first. @default true */
  check?: boolean;
}

/**
 * The kernel NFS server's protocol versions (exports cannot choose them): NFSv4.x only by
 * default. Restarts nfsd only when the drop-in changed; a hand edit is reported as drift.
 */
export class KernelNfsServer extends pulumi.ComponentResource {
  declare public readonly confPath: pulumi.Output<string>;
  declare public readonly observed: pulumi.Output<KernelNfsServerState | null>;

  constructor(name: string, args: KernelNfsServerArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:KernelNfsServer", name, {}, opts);
    const spec: KernelNfsServerSpec = {
      name,
      confPath: args.confPath ?? "/etc/nfs.conf.d/kvmshare.conf",
      nfsv4Only: args.nfsv4Only ?? true,
      disableNfs40: args.disableNfs40 ?? false,
      restartCommand: args.restartCommand ?? ["systemctl", "restart", "nfs-server"],
      check: args.check ?? true,
    };
    if (args.threads !== undefined) spec.threads = args.threads;
    const problems = validateKernelNfsServer(spec);
    if (problems.length) throw new ValidationError(`KernelNfsServer ${name}`, problems);
    const res = new HostResource<KernelNfsServerSpec, KernelNfsServerState>("KernelNfsServer", require.resolve("./kernelNfsServerKind"), `${name}-nfsconf`, { connection: args.connection, spec }, { parent: this });
    this.confPath = pulumi.output(spec.confPath);
    this.observed = res.observed;
    this.registerOutputs({ confPath: this.confPath, observed: this.observed });
  }
}
