import * as pulumi from "@pulumi/pulumi";
import { Observed, requiredSecret } from "../../core/component";
import { UNKNOWN } from "../../core/validate";
import { HostComponent, HostService } from "../host";
import { resolveVaultAgent, validateVaultAgent, VaultAgentArgs, VaultAgentSpec, vaultAgentUnit } from "./vaultAgentArgs";
import { VaultAgentState } from "./vaultAgentKind";

export type { VaultAgentArgs, VaultAgentTemplate } from "./vaultAgentArgs";

/** `observed`: what was observed on the host (files, and whether the AppRole ids are the declared ones). */
export interface VaultAgent extends Observed<VaultAgentState> {}

/**
 * Vault Agent on a host, as declared state: it logs in with an AppRole (role_id and secret_id
 * from Pulumi secrets, in 0600 files), renders its templates (a certificate, its key and the CA
 * from Vault's PKI engine), renews them before they expire and runs each template's command to
 * reload the consumer (tlshd, smbd), with nobody running kvmshare. Its config, CA and unit
 * edited by hand, or the id files changed, are drift; with `service` (the default) its unit
 * `kvmshare-vault-agent-<name>.service` is kept enabled and running too.
 */
export class VaultAgent extends HostComponent<VaultAgent> {
  /** The systemd unit that runs the agent. */
  public readonly unit: string;
  /** The agent's resource, for `dependsOn` (its consumer waits for it). */
  public readonly agentResource: pulumi.Resource;
  /** The service keeping the unit running (unset with `service: false`). */
  public readonly service?: HostService;

  constructor(name: string, args: VaultAgentArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:vault:VaultAgent", name, opts);
    const { connection, roleId, secretId, caCertificate, ...plain } = args;
    const known = resolveVaultAgent(name, { ...plain, caCertificate: typeof caCertificate === "string" ? caCertificate : caCertificate === undefined ? undefined : UNKNOWN });
    this.refuse(validateVaultAgent(known), requiredSecret("roleId", roleId, "(the AppRole's role_id)"), requiredSecret("secretId", secretId, "(a pulumi.secret: the AppRole's secret_id)"));
    this.unit = vaultAgentUnit(known);
    const spec = pulumi.output(caCertificate ?? "").apply((ca) => resolveVaultAgent(name, { ...plain, caCertificate: ca }));
    const secrets = { roleId: pulumi.secret(roleId), secretId: pulumi.secret(secretId) };
    const { resource } = this.hostResource<VaultAgentSpec, VaultAgentState>("VaultAgent", "agent", { connection, spec, secrets });
    this.agentResource = resource;
    if (known.service) this.service = new HostService(`${name}-service`, { connection, unit: this.unit }, { parent: this, dependsOn: [resource] });
    this.publish({ observed: resource.observed });
  }
}
