/** NFS facts shared by the server side (`NfsExport`) and the client side (`GuestMount`). */

/** An NFS security flavour (`sec=`). */
export type NfsSec = "sys" | "krb5" | "krb5i" | "krb5p";

/** Every NFS security flavour kvmshare accepts, weakest first. */
export const NFS_SEC: readonly NfsSec[] = ["sys", "krb5", "krb5i", "krb5p"];

/**
 * An RPC-with-TLS policy (RFC 9289, exports(5) `xprtsec=`): `none` (no TLS), `tls` (encrypted,
 * the server authenticated by its certificate) or `mtls` (the client presents a certificate too).
 */
export type NfsXprtsec = "none" | "tls" | "mtls";

/** Every RPC-with-TLS policy, in the order exports(5) lists them. */
export const NFS_XPRTSEC: readonly NfsXprtsec[] = ["none", "tls", "mtls"];
