import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { HostComponent, HostSetup, HostSetupPlan } from "../host";
import { SAMBA_DEBIAN } from "./smbConf";
import { resolveSambaServer, SambaConfigState, SambaServerArgs, SambaServerSpec, validateSambaServer } from "./sambaServerArgs";

/**
 * A Samba server with hardened globals: SMB3 only (`server min protocol = SMB3_00`), signing
 * mandatory, encryption required, NTLMv1 off, no guest or anonymous access, no printing or
 * NetBIOS. Shares (`SmbShare`) and users (`SmbUser`) take it as `server`.
 */
export class SambaServer extends HostComponent<SambaServer> {
  /** The resolved settings (plain), for shares and users to inherit. */
  public readonly settings: SambaServerSpec;
  /** The connection, for shares and users to inherit. */
  public readonly connection?: pulumi.Input<ConnectionSpec>;
  /** The config resource, for `dependsOn`. */
  public readonly configResource: pulumi.Resource;
  /**
   * The server's host setup (packages), when `hostSetup` is on: shares and users hold their own
   * host resources back until it is done, so their preflight (testparm, pdbedit) waits for samba.
   */
  public readonly hostSetup?: HostSetup;
  /**
   * The services the host setup manages (smbd), for `dependsOn`: a share counts as served only
   * once smbd runs, so a mount that depends on the share waits for it (empty without hostSetup).
   */
  public readonly services: pulumi.Resource[];
  declare public readonly configPath: pulumi.Output<string>;
  /** The config as last observed on the host. */
  declare public readonly observed: pulumi.Output<SambaConfigState | null>;

  constructor(name: string, args: SambaServerArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:exports:SambaServer", name, opts);
    const { connection: _c, hostSetup, ...plain } = args;
    this.settings = resolveSambaServer(name, plain);
    this.refuse(validateSambaServer(this.settings));
    this.connection = args.connection;
    // samba + smbd, by default when the system's own smb.conf is used.
    const plan: HostSetupPlan = { needs: ["samba"], setting: hostSetup, auto: this.settings.configPath === SAMBA_DEBIAN.configPath, services: true };
    const { resource, setup, services } = this.hostResource<SambaServerSpec, SambaConfigState>("SambaServer", "config", { connection: args.connection, spec: this.settings, setup: plan });
    this.services = services;
    this.configResource = resource;
    this.hostSetup = setup;
    this.publish({ configPath: pulumi.output(this.settings.configPath), observed: resource.observed });
  }
}
