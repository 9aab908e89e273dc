import * as pulumi from "@pulumi/pulumi";
import { ConnectionSpec } from "../../core/connection";
import { ValidationError } from "../../core/errors";
import { UNKNOWN } from "../../core/validate";
import { HostResource } from "../../core/hostResource";
import { Json } from "../../core/hostKind";
import { ShareFirewallState } from "./shareFirewallKind";
import { ExtraPort, FirewallAction, FirewallService, resolveShareFirewall, ShareFirewallOptions, ShareFirewallSpec } from "./spec";
import { validateShareFirewall } from "./shareFirewallArgs";

export interface ShareFirewallArgs {
  /** The host whose input traffic is filtered. @default this machine (`{ kind: "local" }`) */
  connection?: pulumi.Input<ConnectionSpec>;
  /**
   * Services whose ports are protected: `nfs` = 2049/tcp, `smb` = 445/tcp.
   * @default ["nfs", "smb"]
   */
  services?: FirewallService[];
  /**
   * Also protect what NFSv3 needs: rpcbind 111/tcp+udp and mountd (`mountdPort`) tcp+udp.
   * lockd/statd use random ports unless pinned; pin them and add them as `extraPorts`.
   * @default false (NFSv4 needs only 2049/tcp)
   */
  nfsV3?: boolean;
  /** mountd's port (pin it in /etc/nfs.conf `[mountd] port=`). Only with `nfsV3`. @default 20048 */
  mountdPort?: number;
  /** More ports or ranges protected with the same allow-list. @default [] */
  extraPorts?: ExtraPort[];
  /**
   * Clients allowed to reach the protected ports: IPv4/IPv6 addresses and CIDRs
   * (`192.168.122.10`, `192.168.122.0/24`, `fd00:122::/64`). Feed it `NfsExport`/`SmbShare`'s
   * `allowedSources` so the export and the firewall cannot disagree. Host names and `*` are refused.
   * @default []
   */
  allowedSources?: pulumi.Input<pulumi.Input<string>[]>;
  /** Interfaces whose traffic is allowed (`iifname`), e.g. `virbr0`; a trailing `*` matches a prefix. @default [] */
  allowedInterfaces?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Block every client on purpose. Required when both allow-lists are empty, so an empty list
   * computed by mistake cannot cut all guests off silently.
   * @default false
   */
  denyAll?: boolean;
  /** Allow the host's own connections over `lo` (e.g. `smbclient //localhost`). @default true */
  allowLoopback?: boolean;
  /**
   * What happens to everything else sent to the protected ports: `reject` (TCP reset / ICMP
   * port unreachable: a misconfigured guest fails at once) or `drop` (silently; it times out).
   * @default "reject"
   */
  action?: FirewallAction;
  /** Count packets on every allow and deny rule (`nft list table inet kvmshare` shows them). @default true */
  counter?: boolean;
  /** Log refused packets to the kernel log, at most this many lines a minute. @default 0 (no logging) */
  logRatePerMinute?: number;
  /** Prefix of those log lines (max 127 characters). @default "<tableName> refused: " */
  logPrefix?: string;
  /** Name of the `inet` table kvmshare owns; nothing outside it is touched. @default "kvmshare" */
  tableName?: string;
  /**
   * Run nft inside this network namespace (`ip netns exec <netns> nft ...`), for hosts whose
   * guest bridge lives in a namespace.
   * @default the host's own namespace
   */
  netns?: pulumi.Input<string>;
  /** Write the table to `persistPath` so it can be loaded at boot. @default true */
  persist?: boolean;
  /** Where the table is persisted (include it from /etc/nftables.conf). @default "/etc/nftables.d/<tableName>.nft" */
  persistPath?: string;
}

function isPlainList(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string" && !pulumi.Output.isInstance(x));
}

/**
 * nftables rules that let only the declared guests reach a host's NFS and SMB ports
 * (what a Kubernetes NetworkPolicy on 2049/445 does, on a KVM host). kvmshare owns one
 * `inet` table and never touches the rest of the ruleset; a rule changed by hand is drift.
 */
export class ShareFirewall extends pulumi.ComponentResource {
  /** `inet <tableName>`. */
  public readonly table: pulumi.Output<string>;
  /** The persistence file, or undefined when `persist: false`. */
  public readonly persistPath: pulumi.Output<string | undefined>;
  /** The table's chains as read back from the host (canonical rule text per chain). */
  public readonly rules: pulumi.Output<Json>;
  /** What was observed on the host at the last apply/refresh. */
  public readonly observed: pulumi.Output<ShareFirewallState | null>;
  /** The host-side resource that owns the table. */
  public readonly nftables: HostResource<ShareFirewallOptions, ShareFirewallState>;

  constructor(name: string, args: ShareFirewallArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:firewall:ShareFirewall", name, {}, opts);
    const { connection, allowedSources, allowedInterfaces, netns, ...plain } = args;

    // Validate what is known now; lists that are outputs are checked again by the provider.
    const known: ShareFirewallOptions = { ...plain };
    const notYet = UNKNOWN as unknown as string[];
    known.allowedSources = allowedSources === undefined || isPlainList(allowedSources) ? (allowedSources as string[] | undefined) : notYet;
    known.allowedInterfaces = allowedInterfaces === undefined || isPlainList(allowedInterfaces) ? (allowedInterfaces as string[] | undefined) : notYet;
    if (typeof netns === "string") known.netns = netns;
    const problems = validateShareFirewall(known);
    if (problems.length) throw new ValidationError(`ShareFirewall ${name}`, problems);
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

    this.nftables = new HostResource<ShareFirewallOptions, ShareFirewallState>(
      "ShareFirewall",
      require.resolve("./shareFirewallKind"),
      `${name}-nftables`,
      { connection, spec },
      { parent: this },
      ["table", "persistPath", "rules"],
    );
    const res = this.nftables as unknown as Record<string, pulumi.Output<unknown>>;
    this.table = pulumi.output(`inet ${resolved.tableName}`);
    this.persistPath = pulumi.output(resolved.persistPath ?? undefined);
    this.rules = res.rules as pulumi.Output<Json>;
    this.observed = this.nftables.observed;
    this.registerOutputs({ table: this.table, persistPath: this.persistPath, rules: this.rules, observed: this.observed });
  }
}
