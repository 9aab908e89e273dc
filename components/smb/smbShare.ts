import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { UNKNOWN } from "../../core/validate";
import { allowedHostNamesOf, allowedSourcesOf } from "../../core/clients";
import { SambaServer } from "./sambaServer";
import { SmbShareState } from "./smbShareKind";
import { SmbShareSpec } from "./smbSpec";
import { SmbUser } from "./smbUser";
import { PlainSmbShareArgs, resolveSmbShare, validateSmbShare } from "./smbValidate";

export interface SmbShareArgs {
  /** The server (its connection, shares directory, index and reload command are used). */
  server?: SambaServer;
  /** The Samba host, when `server` is not given. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The directory to share (absolute; must exist), e.g. a ZfsDataset's mountpoint output. */
  path: pulumi.Input<string>;
  /** Share name (`\\server\name`). @default the resource name */
  shareName?: string;
  /** Users allowed in: names or `SmbUser`s (which the share then waits for). @default [] */
  validUsers?: (string | SmbUser)[];
  /** Unix groups allowed in (`@group`). @default [] */
  validGroups?: string[];
  /** Read-only share. @default false */
  readOnly?: boolean;
  /** Mode bits for new files. @default "0640" */
  createMask?: string;
  /** Mode bits for new directories. @default "0750" */
  directoryMask?: string;
  /** Clients that may connect (IPs, CIDRs, host names; `*` needs `allowAnyClient`); everyone else is denied. */
  hostsAllow: string[];
  /** Allow `*` in hostsAllow. @default false */
  allowAnyClient?: boolean;
  /** List the share in browse lists. @default true */
  browseable?: boolean;
  /** Directory of the share files, when `server` is not given. @default "/etc/samba/kvmshare.d" */
  sharesDir?: string;
  /** The index file that includes every share, when `server` is not given. @default "/etc/samba/kvmshare-shares.conf" */
  sharesIndexPath?: string;
  /** argv that makes smbd re-read its config, when `server` is not given. @default ["systemctl","reload","smbd"] */
  reloadCommand?: string[];
  /** Run `testparm -s` on the new share before it goes live. @default true */
  check?: boolean;
  /** Further share parameters (checked by testparm); hardening rows cannot be overridden. @default {} */
  extraParameters?: Record<string, string>;
}

/**
 * A hardened SMB3 share (no guests, encryption required, only `validUsers` from `hostsAllow`),
 * checked by testparm before it goes live, smbd reloaded only on change, hand edits reported
 * as drift. `allowedSources` feeds a firewall.
 */
export class SmbShare extends pulumi.ComponentResource {
  /** Client IPs/CIDRs (`*` becomes 0.0.0.0/0 and ::/0), for a firewall's allowed sources. */
  declare public readonly allowedSources: pulumi.Output<string[]>;
  /** Client host names (a firewall must resolve them itself). */
  declare public readonly allowedHostNames: pulumi.Output<string[]>;
  /** The share name clients use. */
  declare public readonly shareName: pulumi.Output<string>;
  /** The share file on the host. */
  declare public readonly file: pulumi.Output<string>;
  /** The share as last observed on the host. */
  declare public readonly observed: pulumi.Output<SmbShareState | null>;

  constructor(name: string, args: SmbShareArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:SmbShare", name, {}, opts);
    const server = args.server?.settings;
    const plain: PlainSmbShareArgs = {
      shareName: args.shareName,
      path: typeof args.path === "string" ? args.path : UNKNOWN,
      validUsers: (args.validUsers ?? []).map((u) => (typeof u === "string" ? u : u.userName)),
      validGroups: args.validGroups,
      readOnly: args.readOnly,
      createMask: args.createMask,
      directoryMask: args.directoryMask,
      hostsAllow: args.hostsAllow,
      allowAnyClient: args.allowAnyClient,
      browseable: args.browseable,
      sharesDir: server?.sharesDir ?? args.sharesDir,
      sharesIndexPath: server?.sharesIndexPath ?? args.sharesIndexPath,
      reloadCommand: server?.reloadCommand ?? args.reloadCommand,
      check: args.check,
      extraParameters: args.extraParameters,
    };
    const resolved = resolveSmbShare(name, plain);
    const problems = validateSmbShare(resolved);
    if (args.server && (args.sharesDir || args.sharesIndexPath || args.reloadCommand || args.connection)) {
      problems.push({ field: "server", message: "already sets connection, sharesDir, sharesIndexPath and reloadCommand; remove those or the server" });
    }
    if (problems.length) throw new ValidationError(`SmbShare ${name}`, problems);

    const spec = pulumi.output(args.path).apply((p) => resolveSmbShare(name, { ...plain, path: p }));
    const dependsOn: pulumi.Resource[] = [
      ...(args.server ? [args.server.configResource] : []),
      ...(args.validUsers ?? []).filter((u): u is SmbUser => typeof u !== "string").map((u) => u.userResource),
    ];
    const res = new HostResource<SmbShareSpec, SmbShareState>(
      "SmbShare",
      require.resolve("./smbShareKind"),
      `${name}-share`,
      { connection: args.server?.connection ?? args.connection, spec },
      { parent: this, dependsOn },
    );
    this.allowedSources = pulumi.output(allowedSourcesOf(resolved.hostsAllow));
    this.allowedHostNames = pulumi.output(allowedHostNamesOf(resolved.hostsAllow));
    this.shareName = pulumi.output(resolved.name);
    this.file = pulumi.output(resolved.file);
    this.observed = res.observed;
    this.registerOutputs({ allowedSources: this.allowedSources, allowedHostNames: this.allowedHostNames, shareName: this.shareName, file: this.file, observed: this.observed });
  }
}
