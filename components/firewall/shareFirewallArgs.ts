/**
 * Pure input checks of a ShareFirewall: every problem at once, each naming the field, the
 * value and the fix. Values not known yet at preview (`isUnknown`) are skipped; the provider's
 * `check` runs these again once they are known.
 */
import { Problem } from "../../core/errors";
import { Checker, isUnknown } from "../../core/validate";
import { parseAddress } from "./address";
import { ACTIONS, PROTOCOLS, SERVICES, ShareFirewallOptions } from "./spec";

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

  for (const f of ["denyAll", "nfsV3", "allowLoopback", "counter", "persist"] as const) {
    const v = o[f];
    if (v !== undefined && !isUnknown(v) && typeof v !== "boolean") c.add(f, v, "must be true or false");
  }
  c.oneOf("action", o.action, ACTIONS);
  c.int("logRatePerMinute", o.logRatePerMinute, 0, 100000, "log lines per minute; 0 turns logging off");
  if (o.logPrefix !== undefined && !isUnknown(o.logPrefix)) {
    if (typeof o.logPrefix !== "string" || o.logPrefix.length > 127 || /["\\\n\r\0]/.test(o.logPrefix)) {
      c.add("logPrefix", o.logPrefix, "must be at most 127 characters without quotes, backslashes or newlines");
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
