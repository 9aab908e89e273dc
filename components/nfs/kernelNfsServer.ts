import * as pulumi from "@pulumi/pulumi";
import { NFS_DEBIAN } from "./nfsConf";
import { HostComponent, HostSetupPlan } from "../host";
import { KernelNfsServerState } from "./kernelNfsServerKind";
import { KernelNfsServerArgs, KernelNfsServerSpec, resolveKernelNfsServer, validateKernelNfsServer } from "./kernelNfsServerArgs";

/**
 * The kernel NFS server's protocol versions (exports cannot choose them): NFSv4.x only by
 * default. Restarts nfsd only when the drop-in changed; a hand edit is reported as drift.
 */
export class KernelNfsServer extends HostComponent<KernelNfsServer> {
  declare public readonly confPath: pulumi.Output<string>;
  declare public readonly observed: pulumi.Output<KernelNfsServerState | null>;

  constructor(name: string, args: KernelNfsServerArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:KernelNfsServer", name, opts);
    const { connection: _c, hostSetup, ...plain } = args;
    const spec = resolveKernelNfsServer(name, plain);
    this.refuse(validateKernelNfsServer(spec));
    // nfs-kernel-server + nfs-server.service, by default when the system's own nfs.conf.d is used.
    const setup: HostSetupPlan = { needs: ["nfsKernelServer"], setting: hostSetup, auto: spec.confPath === NFS_DEBIAN.nfsConfPath, services: true };
    const { resource } = this.hostResource<KernelNfsServerSpec, KernelNfsServerState>("KernelNfsServer", "nfsconf", { connection: args.connection, spec, setup });
    this.publish({ confPath: pulumi.output(spec.confPath), observed: resource.observed });
  }
}
