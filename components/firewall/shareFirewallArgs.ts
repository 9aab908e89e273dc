/**
 * ShareFirewall's arguments, declared once: the documented `ShareFirewallArgs`, the plain
 * options derived from it (what validation and the host kind read), its defaults table,
 * `resolveShareFirewall` (the only place defaults are applied), the one table of per-service
 * ports, and the pure `validateShareFirewall`: every problem at once, each naming the field,
 * the value and the fix. Values not known yet at preview (`isUnknown`) are skipped; the
 * provider's `check` runs the checks again once they are known.
 */
import type * as pulumi from "@pulumi/pulumi";
import { Defaults, Plain, Resolved, resolveDefaults } from "../../core/args";
import { ConnectionSpec } from "../../core/connection";
import { Problem } from "../../core/errors";
import { Checker, isUnknown, LINE_BREAKING } from "../../core/validate";
import { anyHostProblem, isAnyHost } from "../../core/clients";
import { parseAddress } from "./address";
import type { HostSetupArgs } from "../host";

/** A service whose ports the firewall protects. */
export type FirewallService = "nfs" | "smb";
export const SERVICES: readonly FirewallService[] = ["nfs", "smb"];

export type PortProtocol = "tcp" | "udp";
export const PROTOCOLS: readonly PortProtocol[] = ["tcp", "udp"];

export type FirewallAction = "drop" | "reject";
export const ACTIONS: readonly FirewallAction[] = ["drop", "reject"];

/** One extra port (or range) to protect with the same allow-list. */
export interface ExtraPort {
  /** First (or only) port, 1-65535. */
  port: number;
  /** Last port of a range (inclusive). @default `port` (a single port) */
  endPort?: number;
  /** `tcp` or `udp`. @default "tcp" */
  protocol?: PortProtocol;
}

export interface ShareFirewallArgs extends HostSetupArgs {
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
   * `allowedSources` so the export and the firewall cannot disagree. Host names and `*` are refused,
   * and so are any-host sources (`0.0.0.0/0`, `::/0`, IPv4 shorter than /8...) unless `allowAnySource`.
   * @default []
   * @fieldKind address
   */
  allowedSources?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Allow any-host sources in `allowedSources` (`0.0.0.0/0`, `::/0`, any prefix 0, IPv4 shorter
   * than /8, global IPv6 shorter than /16): the protected ports are then open to everyone who can
   * reach the host. Set it with an export's or share's `allowAnyClient`.
   * @default false
   */
  allowAnySource?: boolean;
  /** Interfaces whose traffic is allowed (`iifname`), e.g. `virbr0`; a trailing `*` matches a prefix. @default [] @fieldKind name */
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
  /** Log refused packets to the kernel log, at most this many lines a minute (burst 5). @default 0 (no logging) */
  logRatePerMinute?: number;
  /** Prefix of those log lines (max 127 characters). @default "<tableName> refused: " @fieldKind free */
  logPrefix?: string;
  /** Name of the `inet` table kvmshare owns; nothing outside it is touched. Changing it replaces the table. @default "kvmshare" @fieldKind name */
  tableName?: string;
  /**
   * Run nft inside this network namespace (`ip netns exec <netns> nft ...`), for hosts whose
   * guest bridge lives in a namespace.
   * @default the host's own namespace
   * @fieldKind name
   */
  netns?: pulumi.Input<string>;
  /** Write the table to `persistPath` so it can be loaded at boot. @default true */
  persist?: boolean;
  /** Where the table is persisted (include it from /etc/nftables.conf). @default "/etc/nftables.d/<tableName>.nft" @fieldKind path file */
  persistPath?: string;
}

/**
 * The user-facing options as plain values (what `ShareFirewallArgs` resolves to once its
 * outputs are known), plus the `owner` the component sets.
 */
export type ShareFirewallOptions = Omit<Plain<Omit<ShareFirewallArgs, "connection" | "hostSetup">>, "allowedSources" | "allowedInterfaces"> & {
  allowedSources?: string[];
  allowedInterfaces?: string[];
  /**
   * Set by the ShareFirewall component (`<project>/<stack>/<name>`), not by users: recorded on
   * the table so two firewalls (in one stack or two) cannot fight over one table unnoticed.
   */
  owner?: string;
};

/** Options whose default depends on others (or that have none): resolved by hand below. */
type Derived = "logPrefix" | "netns" | "persistPath" | "owner" | "allowAnySource";

/** The one defaults table of a ShareFirewall (what each default does is in `ShareFirewallArgs`). */
export const SHARE_FIREWALL_DEFAULTS: Defaults<ShareFirewallOptions, Derived> = {
  services: ["nfs", "smb"],
  nfsV3: false,
  /** The port RHEL/Fedora pin mountd to; pin it on Debian in /etc/nfs.conf `[mountd] port=20048`. */
  mountdPort: 20048,
  extraPorts: [],
  allowedSources: [],
  allowedInterfaces: [],
  denyAll: false,
  allowLoopback: true,
  action: "reject",
  counter: true,
  logRatePerMinute: 0,
  tableName: "kvmshare",
  persist: true,
};

/** Where persisted tables go by default (`include "/etc/nftables.d/*.nft"` in /etc/nftables.conf). */
export const NFT_PERSIST_DIR = "/etc/nftables.d";

/** Plain (resolved) inputs as the host-side kind receives them. */
export type ShareFirewallSpec = Omit<Resolved<ShareFirewallOptions, Derived>, Derived | "persist"> & {
  logPrefix: string;
  /** `null`: run nft in the host's own network namespace. */
  netns: string | null;
  /** `null`: not persisted. */
  persistPath: string | null;
  /** Who owns the table (`<project>/<stack>/<component>`), recorded in its marker comment; `""`: anonymous. */
  owner: string;
  /** Present (true) only when any-host sources are allowed, so specs of existing firewalls do not change. */
  allowAnySource?: boolean;
};

/** A port range on one protocol, both ends inclusive. */
export interface PortRange {
  protocol: PortProtocol;
  from: number;
  to: number;
  /** Why it is protected (for docs and messages), e.g. `nfs`, `rpcbind`, `extraPorts[0]`. @fieldKind free */
  purpose: string;
}

/** Per-service ports (one table, not sprinkled through the code). */
export const SERVICE_PORTS: Record<FirewallService | "nfsV3", (s: { mountdPort: number }) => PortRange[]> = {
  nfs: () => [{ protocol: "tcp", from: 2049, to: 2049, purpose: "nfs" }],
  smb: () => [{ protocol: "tcp", from: 445, to: 445, purpose: "smb" }],
  nfsV3: ({ mountdPort }) => [
    { protocol: "tcp", from: 111, to: 111, purpose: "rpcbind" },
    { protocol: "udp", from: 111, to: 111, purpose: "rpcbind" },
    { protocol: "tcp", from: mountdPort, to: mountdPort, purpose: "mountd" },
    { protocol: "udp", from: mountdPort, to: mountdPort, purpose: "mountd" },
  ],
};

/** The owner as it can sit in an nft comment (no quotes; nft caps comments at 128 bytes). */
export function ownerTag(owner: string | undefined): string {
  return (owner ?? "").replace(/[^A-Za-z0-9_.:/@+-]/g, "_").slice(0, 100);
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Fill every default once. Values are not validated here (see `validateShareFirewall`). */
export function resolveShareFirewall(o: ShareFirewallOptions): ShareFirewallSpec {
  const d = resolveDefaults<ShareFirewallOptions, Derived>(o, SHARE_FIREWALL_DEFAULTS);
  const tableName = d.tableName;
  return {
    services: uniq(d.services),
    nfsV3: d.nfsV3,
    mountdPort: d.mountdPort,
    extraPorts: d.extraPorts.map((p) => ({ port: p.port, endPort: p.endPort ?? p.port, protocol: p.protocol ?? "tcp" })),
    allowedSources: uniq(d.allowedSources),
    allowedInterfaces: uniq(d.allowedInterfaces),
    denyAll: d.denyAll,
    allowLoopback: d.allowLoopback,
    action: d.action,
    counter: d.counter,
    logRatePerMinute: d.logRatePerMinute,
    logPrefix: o.logPrefix ?? `${tableName} refused: `,
    tableName,
    netns: o.netns ?? null,
    persistPath: d.persist ? (o.persistPath ?? `${NFT_PERSIST_DIR}/${tableName}.nft`) : null,
    owner: ownerTag(o.owner),
    ...(o.allowAnySource === true ? { allowAnySource: true } : {}),
  };
}

/** Every protected port range of a spec (before merging). */
export function protectedPorts(spec: Pick<ShareFirewallSpec, "services" | "nfsV3" | "mountdPort" | "extraPorts">): PortRange[] {
  const out: PortRange[] = [];
  for (const s of spec.services) out.push(...SERVICE_PORTS[s]({ mountdPort: spec.mountdPort }));
  if (spec.nfsV3) out.push(...SERVICE_PORTS.nfsV3({ mountdPort: spec.mountdPort }));
  spec.extraPorts.forEach((p, i) =>
    out.push({ protocol: p.protocol ?? "tcp", from: p.port, to: p.endPort ?? p.port, purpose: `extraPorts[${i}]` }),
  );
  return out;
}

/** Linux interface names are at most 15 bytes; nft accepts a trailing `*` wildcard. */
const IFNAME = /^[A-Za-z0-9_.:@+-]{1,15}\*?$/;
const TABLE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const NETNS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function plainList(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/**
 * Combinations that are each valid alone but contradict each other (one table, one message
 * each). `when` sees the raw options.
 */
const FORBIDDEN: { field: string; when: (o: ShareFirewallOptions) => boolean; value: (o: ShareFirewallOptions) => unknown; message: string }[] = [
  {
    field: "denyAll",
    when: (o) => o.denyAll === true && ((plainList(o.allowedSources)?.length ?? 0) > 0 || (plainList(o.allowedInterfaces)?.length ?? 0) > 0),
    value: (o) => o.denyAll,
    message: "cannot be combined with allowedSources/allowedInterfaces; remove denyAll to allow those clients, or empty the lists to block everyone",
  },
  {
    field: "nfsV3",
    when: (o) => o.nfsV3 === true && Array.isArray(o.services) && !o.services.includes("nfs"),
    value: (o) => o.nfsV3,
    message: "needs 'nfs' in services (NFSv3 adds rpcbind and mountd to the NFS ports)",
  },
  {
    field: "mountdPort",
    when: (o) => o.mountdPort !== undefined && o.nfsV3 !== true,
    value: (o) => o.mountdPort,
    message: "only applies with nfsV3: true (NFSv4 needs only 2049/tcp); set nfsV3: true or remove mountdPort",
  },
  {
    field: "persistPath",
    when: (o) => o.persistPath !== undefined && o.persist === false,
    value: (o) => o.persistPath,
    message: "is ignored with persist: false; remove one of the two",
  },
];

/** All problems with these options (plain values; lists that are still unknown are skipped). */
export function validateShareFirewall(o: ShareFirewallOptions): Problem[] {
  const c = new Checker("ShareFirewall");
  const services = plainList(o.services);
  if (o.services !== undefined && !services) c.add("services", o.services, `must be a list of ${SERVICES.join(", ")}`);
  services?.forEach((s, i) => c.oneOf(`services[${i}]`, s as string, SERVICES));

  const extra = plainList(o.extraPorts);
  if (o.extraPorts !== undefined && !extra) c.add("extraPorts", o.extraPorts, "must be a list of { port, endPort?, protocol? }");
  extra?.forEach((p, i) => {
    const e = (p ?? {}) as { port?: number; endPort?: number; protocol?: string };
    c.required(`extraPorts[${i}].port`, e.port).port(`extraPorts[${i}].port`, e.port);
    c.port(`extraPorts[${i}].endPort`, e.endPort);
    if (Number.isInteger(e.port) && Number.isInteger(e.endPort) && (e.endPort as number) < (e.port as number)) {
      c.add(`extraPorts[${i}].endPort`, e.endPort, `must not be below port (${e.port}); a range is port..endPort`);
    }
    c.oneOf(`extraPorts[${i}].protocol`, e.protocol, PROTOCOLS);
  });
  if (services && services.length === 0 && (!extra || extra.length === 0)) {
    c.add("services", services, "is empty and there are no extraPorts: nothing to protect; list 'nfs' and/or 'smb' or add extraPorts");
  }
  c.port("mountdPort", o.mountdPort);

  const sources = plainList(o.allowedSources);
  if (o.allowedSources !== undefined && !sources && !isUnknown(o.allowedSources)) {
    c.add("allowedSources", o.allowedSources, "must be a list of IPv4/IPv6 addresses or CIDRs");
  }
  sources?.forEach((s, i) => {
    if (isUnknown(s)) return;
    const r = parseAddress(s as string);
    if (!r.ok) c.add(`allowedSources[${i}]`, s, r.message);
    else if (isAnyHost(s) && o.allowAnySource !== true) c.problems.push(anyHostProblem(`allowedSources[${i}]`, s as string, "allowAnySource"));
  });
  const ifaces = plainList(o.allowedInterfaces);
  if (o.allowedInterfaces !== undefined && !ifaces && !isUnknown(o.allowedInterfaces)) {
    c.add("allowedInterfaces", o.allowedInterfaces, "must be a list of interface names such as 'virbr0'");
  }
  ifaces?.forEach((s, i) => {
    if (isUnknown(s)) return;
    if (typeof s !== "string" || !IFNAME.test(s)) {
      c.add(`allowedInterfaces[${i}]`, s, "must be an interface name of 1-15 letters, digits or '_.:@+-', optionally ending in '*' (e.g. 'virbr0', 'vnet*')");
    }
  });
  const listsKnown = (o.allowedSources === undefined || sources !== undefined) && (o.allowedInterfaces === undefined || ifaces !== undefined);
  if (listsKnown && !o.denyAll && (sources?.length ?? 0) === 0 && (ifaces?.length ?? 0) === 0) {
    c.add(
      "allowedSources",
      sources ?? [],
      "is empty (and so is allowedInterfaces): every guest would be cut off from NFS/SMB. List the guests' addresses/CIDRs " +
        "or interfaces, or set denyAll: true to block them all on purpose",
    );
  }

  for (const f of ["allowAnySource", "denyAll", "nfsV3", "allowLoopback", "counter", "persist"] as const) {
    const v = o[f];
    if (v !== undefined && !isUnknown(v) && typeof v !== "boolean") c.add(f, v, "must be true or false");
  }
  c.oneOf("action", o.action, ACTIONS);
  c.int("logRatePerMinute", o.logRatePerMinute, 0, 100000, "log lines per minute; 0 turns logging off");
  if (o.logPrefix !== undefined && !isUnknown(o.logPrefix)) {
    if (typeof o.logPrefix !== "string" || o.logPrefix.length > 127 || /["\\]/.test(o.logPrefix) || LINE_BREAKING.test(o.logPrefix)) {
      c.add("logPrefix", o.logPrefix, "must be at most 127 characters without quotes, backslashes, line breaks or other control characters");
    }
  }
  if (o.tableName !== undefined && !isUnknown(o.tableName) && (typeof o.tableName !== "string" || !TABLE.test(o.tableName))) {
    c.add("tableName", o.tableName, "must be 1-64 letters, digits, '_' or '-' starting with a letter (e.g. 'kvmshare')");
  }
  if (o.netns !== undefined && !isUnknown(o.netns) && (typeof o.netns !== "string" || !NETNS.test(o.netns))) {
    c.add("netns", o.netns, "must be a network namespace name as `ip netns list` shows it (letters, digits, '_.-')");
  }
  c.absPath("persistPath", o.persistPath);

  for (const f of FORBIDDEN) if (f.when(o)) c.add(f.field, f.value(o), f.message);
  return c.problems;
}
