import * as pulumi from "@pulumi/pulumi";
import { HostResource } from "../../core/hostResource";
import { ManagedFileArgs, ManagedFileSpec } from "./managedFileArgs";
import { ManagedFileState } from "./managedFileKind";

export type { ManagedFileArgs } from "./managedFileArgs";

/**
 * A file on a host whose content kvmshare owns: written atomically, checked before it goes
 * live, reported as drift when edited by hand, removed on destroy.
 */
export class ManagedFile extends HostResource<ManagedFileSpec, ManagedFileState> {
  constructor(name: string, args: ManagedFileArgs, opts?: pulumi.CustomResourceOptions) {
    super("ManagedFile", name, { connection: args.connection, spec: args.file }, opts);
  }
}
