import * as pulumi from "@pulumi/pulumi";
import { UNKNOWN } from "../../core/validate";
import { HostComponent, HostSetupPlan } from "../host";
import { hostResourceClass, out } from "../../core/component";
import { HostResource } from "../../core/hostResource";
import { Json } from "../../core/hostKind";
import { ShareFirewallState } from "./shareFirewallKind";
import { resolveShareFirewall, ShareFirewallArgs, ShareFirewallOptions, ShareFirewallSpec, validateShareFirewall } from "./shareFirewallArgs";

function isPlainList(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string" && !pulumi.Output.isInstance(x));
}

/** The table's host resource: the kind adds the table, the persistence file and the rules read back. */
const NftablesResource = hostResourceClass<ShareFirewallOptions, ShareFirewallState>()("ShareFirewall", { table: out<string>(), persistPath: out<string | null>(), rules: out<Json>() });

/**
 * nftables rules that let only the declared guests reach a host's NFS and SMB ports
 * (what a Kubernetes NetworkPolicy on 2049/445 does, on a KVM host). kvmshare owns one
 * `inet` table and never touches the rest of the ruleset; a rule changed by hand is drift.
 */
export class ShareFirewall extends HostComponent<ShareFirewall> {
  /** `inet <tableName>`. */
  declare public readonly table: pulumi.Output<string>;
  /** The persistence file, or undefined when `persist: false`. */
  declare public readonly persistPath: pulumi.Output<string | undefined>;
  /** The table's chains as read back from the host (canonical rule text per chain). */
  declare public readonly rules: pulumi.Output<Json>;
  /** What was observed on the host at the last apply/refresh. */
  declare public readonly observed: pulumi.Output<ShareFirewallState | null>;
  /** The host-side resource that owns the table. */
  public readonly nftables: HostResource<ShareFirewallOptions, ShareFirewallState>;

  constructor(name: string, args: ShareFirewallArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:firewall:ShareFirewall", name, opts);
    const { connection, allowedSources, allowedInterfaces, netns, hostSetup, ...plain } = args;

    // Validate what is known now; lists that are outputs are checked again by the provider.
    const known: ShareFirewallOptions = { ...plain };
    const notYet = UNKNOWN as unknown as string[];
    known.allowedSources = allowedSources === undefined || isPlainList(allowedSources) ? (allowedSources as string[] | undefined) : notYet;
    known.allowedInterfaces = allowedInterfaces === undefined || isPlainList(allowedInterfaces) ? (allowedInterfaces as string[] | undefined) : notYet;
    if (typeof netns === "string") known.netns = netns;
    this.refuse(validateShareFirewall(known));
    const owner = `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
    const resolved: ShareFirewallSpec = resolveShareFirewall({ tableName: plain.tableName, persist: plain.persist, persistPath: plain.persistPath });

    const spec = pulumi
      .all([pulumi.output(allowedSources ?? []), pulumi.output(allowedInterfaces ?? []), pulumi.output(netns)])
      .apply(([sources, ifaces, ns]) => {
        const o: ShareFirewallOptions = { ...plain, allowedSources: sources, allowedInterfaces: ifaces, owner };
        if (ns !== undefined) o.netns = ns;
        // Plain JSON only: Pulumi drops undefined keys anyway, make that explicit.
        return JSON.parse(JSON.stringify(o)) as ShareFirewallOptions;
      });

    // nftables, by default on the host itself with the system's persist path (not in a netns).
    const setup: HostSetupPlan = { needs: ["nftables"], setting: hostSetup, auto: netns === undefined && plain.persistPath === undefined };
    const { resource } = this.hostResource(NftablesResource, "nftables", { connection, spec, setup });
    this.nftables = resource;
    this.publish({
      table: pulumi.output(`inet ${resolved.tableName}`),
      persistPath: pulumi.output(resolved.persistPath ?? undefined),
      rules: resource.rules,
      observed: resource.observed,
    });
  }
}
