export * from "./shareFirewall";
export type { ShareFirewallState } from "./shareFirewallKind";
export type { ShareFirewallArgs, ShareFirewallOptions, ShareFirewallSpec, ExtraPort, FirewallService, FirewallAction, PortProtocol } from "./shareFirewallArgs";
export { resolveShareFirewall, protectedPorts, SERVICE_PORTS, validateShareFirewall } from "./shareFirewallArgs";
export { parseAddress } from "./address";
