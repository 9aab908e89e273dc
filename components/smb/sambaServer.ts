import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { HostResource } from "../../core/hostResource";
import { SambaConfigState } from "./sambaServerKind";
import { SambaServerSpec, SmbMinProtocol } from "./smbSpec";
import { resolveSambaServer, validateSambaServer } from "./smbValidate";

export interface SambaServerArgs {
  /** The Samba host. @default this machine */
  connection?: pulumi.Input<ConnectionSpec>;
  /** The smb.conf kvmshare owns (a previous one is kept as `<path>.kvmshare-orig` and restored on destroy). @default "/etc/samba/smb.conf" */
  configPath?: string;
  /** Directory of the share files. @default "/etc/samba/kvmshare.d" */
  sharesDir?: string;
  /** The file that includes every share file (included from the config). @default "/etc/samba/kvmshare-shares.conf" */
  sharesIndexPath?: string;
  /** NetBIOS workgroup. @default "WORKGROUP" */
  workgroup?: string;
  /** `server string`. @default "kvmshare" */
  serverString?: string;
  /** Lowest dialect accepted (SMB2 and NT1 clients are refused). @default "SMB3_00" */
  minProtocol?: SmbMinProtocol;
  /** TCP ports smbd listens on. @default [445] */
  ports?: number[];
  /** Interfaces/addresses to bind (`bind interfaces only`), e.g. `["virbr0"]`. @default [] (all) */
  interfaces?: string[];
  /** Server-wide `hosts allow` (IPs/CIDRs/names). @default [] (each share sets its own) */
  hostsAllow?: string[];
  /** A private tdbsam passdb file (`passdb backend = tdbsam:<path>`). @default Samba's passdb */
  passdbPath?: string;
  /** One directory for Samba's private/lock/state/cache/pid dirs (sandboxes, second instances). @default Samba's */
  stateDir?: string;
  /** `log file`. @default Samba's (syslog/`/var/log/samba`) */
  logFile?: string;
  /** argv that makes smbd re-read its config. @default ["systemctl","reload","smbd"] */
  reloadCommand?: string[];
  /** Run `testparm -s` on the new config before it goes live. @default true */
  check?: boolean;
  /** Further [global] parameters; the hardening rows cannot be overridden. @default {} */
  extraParameters?: Record<string, string>;
}

/**
 * A Samba server with hardened globals: SMB3 only (`server min protocol = SMB3_00`), signing
 * mandatory, encryption required, NTLMv1 off, no guest or anonymous access, no printing or
 * NetBIOS. Shares (`SmbShare`) and users (`SmbUser`) take it as `server`.
 */
export class SambaServer extends pulumi.ComponentResource {
  /** The resolved settings (plain), for shares and users to inherit. */
  public readonly settings: SambaServerSpec;
  /** The connection, for shares and users to inherit. */
  public readonly connection?: pulumi.Input<ConnectionSpec>;
  /** The config resource, for `dependsOn`. */
  public readonly configResource: pulumi.Resource;
  declare public readonly configPath: pulumi.Output<string>;
  /** The config as last observed on the host. */
  declare public readonly observed: pulumi.Output<SambaConfigState | null>;

  constructor(name: string, args: SambaServerArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:SambaServer", name, {}, opts);
    const plain = { ...args };
    delete plain.connection;
    this.settings = resolveSambaServer(name, plain);
    const problems = validateSambaServer(this.settings);
    if (problems.length) throw new ValidationError(`SambaServer ${name}`, problems);
    this.connection = args.connection;
    const res = new HostResource<SambaServerSpec, SambaConfigState>("SambaServer", require.resolve("./sambaServerKind"), `${name}-config`, { connection: args.connection, spec: this.settings }, { parent: this });
    this.configResource = res;
    this.configPath = pulumi.output(this.settings.configPath);
    this.observed = res.observed;
    this.registerOutputs({ configPath: this.configPath, observed: this.observed });
  }
}
