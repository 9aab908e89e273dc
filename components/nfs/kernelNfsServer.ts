import * as pulumi from "@pulumi/pulumi";
import { ValidationError } from "../../core/errors";
import { NFS_DEBIAN } from "./nfsConf";
import { HostResource } from "../../core/hostResource";
import { afterSetup, hostServicesFor, hostSetupFor } from "../host";
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
    const { connection: _c, hostSetup, ...plain } = args;
    const spec = resolveKernelNfsServer(name, plain);
    const problems = validateKernelNfsServer(spec);
    if (problems.length) throw new ValidationError(`KernelNfsServer ${name}`, problems);
    // nfs-kernel-server + nfs-server.service, by default when the system's own nfs.conf.d is used.
    const setup = hostSetupFor(this, name, args.connection, ["nfsKernelServer"], hostSetup, spec.confPath === NFS_DEBIAN.nfsConfPath);
    const res = new HostResource<KernelNfsServerSpec, KernelNfsServerState>("KernelNfsServer", `${name}-nfsconf`, { connection: args.connection, spec: afterSetup(setup, spec) }, { parent: this });
    hostServicesFor(this, name, args.connection, ["nfsKernelServer"], hostSetup, setup, [res]);
    this.confPath = pulumi.output(spec.confPath);
    this.observed = res.observed;
    this.registerOutputs({ confPath: this.confPath, observed: this.observed });
  }
}
