export * from "./shareFirewall";
export type { ShareFirewallState } from "./shareFirewallKind";
export type { ShareFirewallOptions, ShareFirewallSpec, ExtraPort, FirewallService, FirewallAction, PortProtocol } from "./spec";
export { resolveShareFirewall, protectedPorts, SERVICE_PORTS } from "./spec";
export { validateShareFirewall } from "./shareFirewallArgs";
export { parseAddress } from "./address";
