import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { KernelNfsServerState } from "./kernelNfsServerKind";
import { KernelNfsServerArgs, KernelNfsServerSpec, resolveKernelNfsServer, validateKernelNfsServer } from "./kernelNfsServerArgs";

/**
 * The kernel NFS server's protocol versions (exports cannot choose them): NFSv4.x only by
 * default. Restarts nfsd only when the drop-in changed; a hand edit is reported as drift.
 */
export class KernelNfsServer extends pulumi.ComponentResource {
  declare public readonly confPath: pulumi.Output<string>;
  declare public readonly observed: pulumi.Output<KernelNfsServerState | null>;

  constructor(name: string, args: KernelNfsServerArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:KernelNfsServer", name, {}, opts);
    const plain = { ...args };
    delete plain.connection;
    const spec = resolveKernelNfsServer(name, plain);
    const problems = validateKernelNfsServer(spec);
    if (problems.length) throw new ValidationError(`KernelNfsServer ${name}`, problems);
    const res = new HostResource<KernelNfsServerSpec, KernelNfsServerState>("KernelNfsServer", `${name}-nfsconf`, { connection: args.connection, spec }, { parent: this });
    this.confPath = pulumi.output(spec.confPath);
    this.observed = res.observed;
    this.registerOutputs({ confPath: this.confPath, observed: this.observed });
  }
}
