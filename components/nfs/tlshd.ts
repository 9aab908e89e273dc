import * as pulumi from "@pulumi/pulumi";
import { Observed } from "../../core/component";
import { UNKNOWN } from "../../core/validate";
import { HostComponent, HostService, HostSetupPlan } from "../host";
import { keySecret, PlainTlshdArgs, resolveTlshd, TLSHD_ENDS, TLSHD_FACTS, TlshdArgs, TlshdSpec, validateTlshd } from "./tlshdArgs";
import { TlshdState } from "./tlshdKind";

/** `observed`: the config, certificate and key files as last observed (keys only as current or not). */
export interface Tlshd extends Observed<TlshdState> {}

/** A certificate known now, or UNKNOWN (validated once known, in the provider's check). */
const known = (v: unknown) => (v === undefined || typeof v === "string" ? v : UNKNOWN);

/**
 * ktls-utils' `tlshd` on a host, for NFS RPC-with-TLS (`xprtsec=tls|mtls` exports and mounts):
 * its tlshd.conf, the certificates and the private keys (Pulumi secrets, written 0600, never in
 * state or logs in plain text), restarted when any of them changes, and `tlshd.service` kept
 * enabled and running (`manageService`). Declare one on the NFS server (`server`) and one on each
 * guest that mounts with TLS (`client`).
 */
export class Tlshd extends HostComponent<Tlshd> {
  /** tlshd's config file on the host. */
  declare public readonly configPath: pulumi.Output<string>;
  /** The directory of the certificate and key files. */
  declare public readonly certDir: pulumi.Output<string>;
  /** The systemd unit (`tlshd.service`). */
  declare public readonly unit: pulumi.Output<string>;
  /** The `HostService` keeping tlshd running (undefined with `manageService: false`), for `dependsOn`. */
  public readonly service?: HostService;

  constructor(name: string, args: TlshdArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:nfs:Tlshd", name, opts);
    const plainEnd = (e: TlshdArgs["server" | "client"]) =>
      e === undefined ? undefined : { certificate: known(e.certificate), trustedCa: known(e.trustedCa), privateKey: e.privateKey === undefined ? undefined : UNKNOWN };
    const { connection: _c, hostSetup, server, client, ...rest } = args;
    const plain: PlainTlshdArgs = { ...rest, server: plainEnd(server), client: plainEnd(client) };
    this.refuse(validateTlshd(resolveTlshd(name, plain)));

    const certs = (e: TlshdArgs["server" | "client"]) => (e === undefined ? undefined : pulumi.all([e.certificate, e.trustedCa]).apply(([certificate, trustedCa]) => ({ certificate, trustedCa, privateKey: e.privateKey === undefined ? undefined : UNKNOWN })));
    const spec: pulumi.Output<TlshdSpec> = pulumi.all([certs(server), certs(client)]).apply(([s, c]) => resolveTlshd(name, { ...rest, server: s, client: c }));
    const secrets: Record<string, pulumi.Input<string>> = {};
    for (const end of TLSHD_ENDS) {
      const key = args[end]?.privateKey;
      if (key !== undefined) secrets[keySecret(end)] = pulumi.secret(key);
    }
    const setup: HostSetupPlan = { needs: ["tlshd"], setting: hostSetup, auto: true };
    const { resource } = this.hostResource<TlshdSpec, TlshdState>("Tlshd", "config", { connection: args.connection, spec, secrets, setup });
    if (args.manageService !== false) {
      this.service = new HostService(`${name}-service`, { connection: args.connection, unit: TLSHD_FACTS.unit }, { parent: this, dependsOn: [resource] });
    }
    const resolved = resolveTlshd(name, plain);
    this.publish({ configPath: pulumi.output(resolved.configPath), certDir: pulumi.output(resolved.certDir), unit: pulumi.output(TLSHD_FACTS.unit), observed: resource.observed });
  }
}
