import * as pulumi from "@pulumi/pulumi";
import { Observed } from "../../core/component";
import { ValidationError } from "../../core/errors";
import { HostComponent } from "../host";
import { UNKNOWN } from "../../core/validate";
import { AllowedClients, allowedHostNamesOf, allowedSourcesOf } from "../../core/clients";
import { PlainSmbShareArgs, resolveSmbShare, SmbShareArgs, SmbShareSpec, validateSmbShare } from "./smbShareArgs";
import { SmbShareState } from "./smbShareKind";
import { SmbUser } from "./smbUser";

/** The clients (`hostsAllow`), for a firewall (`allowedSources`, `allowedHostNames`); `observed`: the share as last observed on the host. */
export interface SmbShare extends AllowedClients, Observed<SmbShareState> {}

/**
 * A hardened SMB3 share (no guests, encryption required, only `validUsers` from `hostsAllow`),
 * checked by testparm before it goes live, smbd reloaded only on change, hand edits reported
 * as drift. `allowedSources` feeds a firewall.
 */
export class SmbShare extends HostComponent<SmbShare> {
  /** The share name clients use. */
  declare public readonly shareName: pulumi.Output<string>;
  /** The share file on the host. */
  declare public readonly file: pulumi.Output<string>;

  constructor(name: string, args: SmbShareArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:SmbShare", name, opts);
    const server = args.server?.settings;
    const { server: _server, connection: _connection, path: _path, validUsers, ...rest } = args;
    const plain: PlainSmbShareArgs = {
      ...rest,
      path: typeof args.path === "string" ? args.path : UNKNOWN,
      validUsers: validUsers?.map((u) => (typeof u === "string" ? u : u.userName)),
      // A server's settings win (giving both is reported below).
      sharesDir: server?.sharesDir ?? args.sharesDir,
      sharesIndexPath: server?.sharesIndexPath ?? args.sharesIndexPath,
      reloadCommand: server?.reloadCommand ?? args.reloadCommand,
    };
    const resolved = resolveSmbShare(name, plain);
    const problems = validateSmbShare(resolved);
    if (args.server && (args.sharesDir || args.sharesIndexPath || args.reloadCommand || args.connection)) {
      problems.push({ field: "server", message: "already sets connection, sharesDir, sharesIndexPath and reloadCommand; remove those or the server" });
    }
    if (problems.length) throw new ValidationError(`SmbShare ${name}`, problems);

    const spec = pulumi.output(args.path).apply((p) => resolveSmbShare(name, { ...plain, path: p }));
    const dependsOn: pulumi.Resource[] = [
      // The server's config and, with hostSetup, smbd itself: the share is served only once smbd runs.
      ...(args.server ? [args.server.configResource, ...args.server.services] : []),
      ...(args.validUsers ?? []).filter((u): u is SmbUser => typeof u !== "string").map((u) => u.userResource),
    ];
    const { resource } = this.hostResource<SmbShareSpec, SmbShareState>(
      "SmbShare",
      "share",
      // On a bare host the spec waits for the server's packages (testparm comes with samba).
      { connection: args.server?.connection ?? args.connection, spec, setup: args.server?.hostSetup },
      { dependsOn },
    );
    this.publish({
      allowedSources: pulumi.output(allowedSourcesOf(resolved.hostsAllow)),
      allowedHostNames: pulumi.output(allowedHostNamesOf(resolved.hostsAllow)),
      shareName: pulumi.output(resolved.name),
      file: pulumi.output(resolved.file),
      observed: resource.observed,
    });
  }
}
