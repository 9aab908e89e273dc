/** NFS facts shared by the server side (`NfsExport`) and the client side (`GuestMount`). */

/** An NFS security flavour (`sec=`). */
export type NfsSec = "sys" | "krb5" | "krb5i" | "krb5p";

/** Every NFS security flavour kvmshare accepts, weakest first. */
export const NFS_SEC: readonly NfsSec[] = ["sys", "krb5", "krb5i", "krb5p"];
