/**
 * The VM lane's bare-guest stack (test/vm/bare-guest.test.ts), run by the real Pulumi engine:
 * on a Debian guest without NFS or SMB packages, every component with `hostSetup: true`
 * installs what it needs, enables and starts its services, then exports, shares and mounts.
 * The guest is its own server and client (127.0.0.1); the NFS mount has a health check.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ConnectionSpec } from "../../../../core/connection";
import { GuestMount } from "../../../../components/guest";
import { KernelNfsServer, NfsExport } from "../../../../components/nfs";
import { SambaServer, SmbShare, SmbUser } from "../../../../components/smb";

const cfg = new pulumi.Config();
const connection: pulumi.Input<ConnectionSpec> = pulumi.secret(cfg.requireSecret("privateKey")).apply((privateKey) => ({
  kind: "ssh" as const,
  host: "127.0.0.1",
  port: cfg.requireNumber("sshPort"),
  user: "root",
  privateKey,
  hostKeySha256: cfg.require("hostKeySha256"),
  readyTimeoutMs: 30_000,
}));
const password = cfg.requireSecret("smbPassword");
const hostSetup = true;

const nfsd = new KernelNfsServer("nfsd", { connection, hostSetup });
// After the server: its config change restarts nfs-server, and an export applied during that
// restart records its client as inactive (etab is empty between stop and start).
const exp = new NfsExport("share", {
  connection,
  hostSetup,
  path: "/srv/share",
  clients: ["127.0.0.1"],
  access: "rw",
  squash: "no_root_squash",
  acknowledgeNoRootSquash: true,
  fsid: 1,
}, { dependsOn: [nfsd] });
new GuestMount("nfsmnt", {
  connection,
  hostSetup,
  where: "/mnt/nfs",
  nfs: { server: "127.0.0.1", exportPath: "/srv/share" },
  healthCheck: { periodSec: cfg.getNumber("healthPeriodSec") ?? 10, timeoutSec: 3, marker: ".kvmshare-alive" },
}, { dependsOn: [exp] });

const server = new SambaServer("smb", { connection, hostSetup, interfaces: ["127.0.0.1"], hostsAllow: ["127.0.0.1"] });
const user = new SmbUser("games", { server, password });
const share = new SmbShare("data", { server, path: "/srv/smb", validUsers: [user], hostsAllow: ["127.0.0.1"] });
new GuestMount("smbmnt", {
  connection,
  hostSetup,
  where: "/mnt/smb",
  smb: { server: "127.0.0.1", share: "data", username: "games" },
  password,
}, { dependsOn: [share] });
