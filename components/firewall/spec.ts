/**
 * The resolved inputs of a ShareFirewall (every default filled in, plain JSON) and the one
 * table of per-service facts. `resolveShareFirewall` is the only place defaults live.
 */

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
  /** @default "tcp" */
  protocol?: PortProtocol;
}

/** A port range on one protocol, both ends inclusive. */
export interface PortRange {
  protocol: PortProtocol;
  from: number;
  to: number;
  /** Why it is protected (for docs and messages), e.g. `nfs`, `rpcbind`, `extraPorts[0]`. */
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

export const DEFAULTS = {
  services: ["nfs", "smb"] as FirewallService[],
  nfsV3: false,
  /** The port RHEL/Fedora pin mountd to; pin it on Debian in /etc/nfs.conf `[mountd] port=20048`. */
  mountdPort: 20048,
  action: "reject" as FirewallAction,
  counter: true,
  logRatePerMinute: 0,
  allowLoopback: true,
  tableName: "kvmshare",
  persist: true,
  persistDir: "/etc/nftables.d",
} as const;

/** Plain (resolved) inputs as the host-side kind receives them. */
export interface ShareFirewallSpec {
  services: FirewallService[];
  nfsV3: boolean;
  mountdPort: number;
  extraPorts: ExtraPort[];
  allowedSources: string[];
  allowedInterfaces: string[];
  denyAll: boolean;
  allowLoopback: boolean;
  action: FirewallAction;
  counter: boolean;
  logRatePerMinute: number;
  logPrefix: string;
  tableName: string;
  /** `null`: run nft in the host's own network namespace. */
  netns: string | null;
  /** `null`: not persisted. */
  persistPath: string | null;
  /** Who owns the table (`<project>/<stack>/<component>`), recorded in its marker comment; `""`: anonymous. */
  owner: string;
  [k: string]: unknown;
}

/** The user-facing options as plain values (what `ShareFirewallArgs` resolves to). */
export interface ShareFirewallOptions {
  services?: FirewallService[];
  nfsV3?: boolean;
  mountdPort?: number;
  extraPorts?: ExtraPort[];
  allowedSources?: string[];
  allowedInterfaces?: string[];
  denyAll?: boolean;
  allowLoopback?: boolean;
  action?: FirewallAction;
  counter?: boolean;
  logRatePerMinute?: number;
  logPrefix?: string;
  tableName?: string;
  netns?: string;
  persist?: boolean;
  persistPath?: string;
  /**
   * Set by the ShareFirewall component (`<project>/<stack>/<name>`), not by users: recorded on
   * the table so two firewalls (in one stack or two) cannot fight over one table unnoticed.
   */
  owner?: string;
}

/** The owner as it can sit in an nft comment (no quotes; nft caps comments at 128 bytes). */
export function ownerTag(owner: string | undefined): string {
  return (owner ?? "").replace(/[^A-Za-z0-9_.:/@+-]/g, "_").slice(0, 100);
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Fill every default once. Values are not validated here (see `validateShareFirewall`). */
export function resolveShareFirewall(o: ShareFirewallOptions): ShareFirewallSpec {
  const tableName = o.tableName ?? DEFAULTS.tableName;
  const persist = o.persist ?? DEFAULTS.persist;
  return {
    services: uniq(o.services ?? DEFAULTS.services),
    nfsV3: o.nfsV3 ?? DEFAULTS.nfsV3,
    mountdPort: o.mountdPort ?? DEFAULTS.mountdPort,
    extraPorts: (o.extraPorts ?? []).map((p) => ({ port: p.port, endPort: p.endPort ?? p.port, protocol: p.protocol ?? "tcp" })),
    allowedSources: uniq(o.allowedSources ?? []),
    allowedInterfaces: uniq(o.allowedInterfaces ?? []),
    denyAll: o.denyAll ?? false,
    allowLoopback: o.allowLoopback ?? DEFAULTS.allowLoopback,
    action: o.action ?? DEFAULTS.action,
    counter: o.counter ?? DEFAULTS.counter,
    logRatePerMinute: o.logRatePerMinute ?? DEFAULTS.logRatePerMinute,
    logPrefix: o.logPrefix ?? `${tableName} refused: `,
    tableName,
    netns: o.netns ?? null,
    persistPath: persist ? (o.persistPath ?? `${DEFAULTS.persistDir}/${tableName}.nft`) : null,
    owner: ownerTag(o.owner),
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
