/** The NFS leg of HostGuestShare: an `NfsExport` to the guest's address, then the guest's NFS mount. */
import { NfsExport } from "../nfs";
import { SHARE_DEFAULTS } from "./hostGuestShareArgs";
import { guestMountOf, Leg, LegContext, networkSide } from "./leg";

/** `{ xprtsec }` for one end of the share (nothing when the share sets no TLS). */
function xprtsec<T>(x: "tls" | "mtls" | undefined, form: (x: "tls" | "mtls") => T): { xprtsec?: T } {
  return x === undefined ? {} : { xprtsec: form(x) };
}

export function nfsLeg(ctx: LegContext): Leg {
  const { name, args } = ctx;
  const nfsExport = ctx.done(
    new NfsExport(
      `${name}-export`,
      { access: SHARE_DEFAULTS.nfsAccess, ...(args.nfs?.export ?? {}), ...xprtsec(args.nfs?.xprtsec, (x) => [x]), connection: args.host, path: ctx.hostPath, clients: [args.guest.address!] },
      ctx.after(),
    ),
  );
  const exportPath = nfsExport.mountPath;
  const children = { nfsExport, ...networkSide(ctx, "nfs", nfsExport.allowedSources) };
  const nfs = { nconnect: SHARE_DEFAULTS.nfsConnections, ...(args.nfs?.mount ?? {}), ...xprtsec(args.nfs?.xprtsec, (x) => x), server: args.serverAddress!, exportPath };
  return { exportPath, mount: guestMountOf(ctx, { nfs }), children };
}
