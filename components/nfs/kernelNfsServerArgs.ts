/**
 * KernelNfsServer: the args (declared once, documented), their defaults, the resolved spec the
 * host-side kind gets (derived from the args) and its validation (pure).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../core/connection";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import { Problem } from "../../core/errors";
import { Checker } from "../../core/validate";
import { NFS_DEBIAN } from "./nfsConf";
import type { HostSetupArgs } from "../host";

export interface KernelNfsServerArgs extends HostSetupArgs {
  /** The NFS server. @default this machine (a local connection) */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Serve NFSv4.x only (`vers3=n`, `udp=n`): no rpcbind/mountd exposure needed. @default true */
  nfsv4Only?: boolean;
  /** Refuse NFSv4.0 too (4.1+ only: sessions, no callbacks through firewalls). @default false */
  disableNfs40?: boolean;
  /** nfsd threads (`threads=`). @default unset: the distribution's (8) */
  threads?: number;
  /** The drop-in file (nfs-utils >= 2.5 reads /etc/nfs.conf.d/*.conf). @default "/etc/nfs.conf.d/kvmshare.conf" @fieldKind path file */
  confPath?: string;
  /** argv run when the file changed; NFS versions need an nfsd restart. @default ["systemctl","restart","nfs-server"] @fieldKind free argv */
  restartCommand?: string[];
  /** Check the file with `nfsconf --dump` first. @default true */
  check?: boolean;
}

/** KernelNfsServer args as plain values. */
export type PlainKernelNfsServerArgs = Plain<Omit<KernelNfsServerArgs, "connection" | "hostSetup">>;

/** What the host-side kind gets: every default resolved (`threads` stays unset without one). */
export type KernelNfsServerSpec = Resolved<PlainKernelNfsServerArgs, "threads"> & {
  /** Resource name (for the file header). */
  name: string;
};

const KERNEL_NFS_SERVER_DEFAULTS: Defaults<PlainKernelNfsServerArgs, "threads"> = {
  nfsv4Only: true,
  disableNfs40: false,
  confPath: NFS_DEBIAN.nfsConfPath,
  restartCommand: NFS_DEBIAN.nfsdRestartCommand,
  check: true,
};

/** Fill every default: the spec the host-side kind gets. */
export function resolveKernelNfsServer(name: string, a: PlainKernelNfsServerArgs): KernelNfsServerSpec {
  return { name, ...resolveDefaults<PlainKernelNfsServerArgs, "threads">(a, KERNEL_NFS_SERVER_DEFAULTS) };
}

/** Problems with a resolved server spec (pure; runs at preview and in the provider's check). */
export function validateKernelNfsServer(s: KernelNfsServerSpec): Problem[] {
  const c = new Checker("KernelNfsServer");
  c.absPath("confPath", s.confPath);
  if (typeof s.confPath === "string" && !s.confPath.endsWith(".conf")) c.add("confPath", s.confPath, "must end in .conf (nfs-utils only reads *.conf from /etc/nfs.conf.d)");
  if (typeof s.nfsv4Only !== "boolean") c.add("nfsv4Only", s.nfsv4Only, "must be true or false");
  if (typeof s.disableNfs40 !== "boolean") c.add("disableNfs40", s.disableNfs40, "must be true or false");
  if (s.disableNfs40 && !s.nfsv4Only) c.add("disableNfs40", true, "leaves NFSv3 on while turning NFSv4.0 off; set nfsv4Only: true as well (or drop disableNfs40)");
  c.int("threads", s.threads, 1, 1024, "nfsd threads; 8 per core is a common start");
  c.argv("restartCommand", s.restartCommand, "['systemctl', 'restart', 'nfs-server']");
  return c.problems;
}
