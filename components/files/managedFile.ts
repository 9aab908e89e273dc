import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostResource } from "../../core/hostResource";
import { ManagedFileSpec, ManagedFileState } from "./managedFileKind";

export interface ManagedFileArgs {
  /** Where the file lives. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** Absolute path, content, mode, owner, optional check/reload commands. */
  file: pulumi.Input<ManagedFileSpec>;
}

/**
 * A file on a host whose content kvmshare owns: written atomically, checked before it goes
 * live, reported as drift when edited by hand, removed on destroy.
 */
export class ManagedFile extends HostResource<ManagedFileSpec, ManagedFileState> {
  constructor(name: string, args: ManagedFileArgs, opts?: pulumi.CustomResourceOptions) {
    super("ManagedFile", require.resolve("./managedFileKind"), name, { connection: args.connection, spec: args.file }, opts);
  }
}
