/**
 * Share a ZFS dataset with one guest over hardened SMB3: a Samba server with SMB3-only,
 * signing and encryption required; one user (password to the passdb over stdin); a share only
 * that user may use from the guest's address; optional nftables allow-list on 445; and in the
 * guest a systemd mount `vers=3.1.1,seal` reading a root-only 0600 credentials file.
 *
 *   pulumi config set smbUser vmshare
 *   pulumi config set --secret smbPassword 'a long passphrase'
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { core, HostGuestShare, SambaServer } from "kvmshare";

export = async () => {
  const cfg = new pulumi.Config();
  const sandbox = cfg.get("sandbox");
  const under = (p: string) => (sandbox ? `${sandbox}${p}` : p);
  const dataset = cfg.get("dataset");
  const port = cfg.getNumber("port");

  const server = new SambaServer("smb", {
    connection: cfg.getSecretObject<core.ConnectionSpec>("hostConnection"),
    ...(port ? { ports: [port] } : {}),
    ...(cfg.get("interface") ? { interfaces: [cfg.require("interface")] } : {}),
    ...(sandbox
      ? {
          configPath: under("/etc/samba/smb.conf"),
          sharesDir: under("/etc/samba/kvmshare.d"),
          sharesIndexPath: under("/etc/samba/kvmshare-shares.conf"),
          passdbPath: under("/var/lib/samba/passdb.tdb"),
          stateDir: under("/var/lib/samba"),
          logFile: under("/var/log/samba/log.smbd"),
          reloadCommand: cfg.getObject<string[]>("reloadCommand") ?? ["true"],
        }
      : {}),
  });

  const share = new HostGuestShare("vmshare", {
    protocol: "smb",
    ...(dataset
      ? { dataset: { datasetName: dataset, properties: { compression: "lz4", xattr: "sa", acltype: "posix", mountpoint: `/${dataset}` } } }
      : { hostPath: cfg.get("hostPath") ?? under("/srv/smbshare") }),
    serverAddress: cfg.get("serverAddress") ?? "192.168.122.1",
    guest: {
      address: cfg.get("guestAddress") ?? "192.168.122.10",
      connection: cfg.getSecretObject<core.ConnectionSpec>("guestConnection"),
      mountPoint: "/mnt/smbshare",
      mount: sandbox ? { root: under("/guest"), activation: "enable" } : {},
    },
    smb: {
      server,
      username: cfg.require("smbUser"),
      password: cfg.requireSecret("smbPassword"),
      mount: { uid: 1000, gid: 1000, ...(port ? { port } : {}) },
    },
    firewall: cfg.getBoolean("firewall") ? { netns: cfg.get("netns"), ...(sandbox ? { persistPath: under("/etc/nftables.d/kvmshare.nft") } : {}) } : false,
  });

  return {
    mountPath: share.mountPath,
    shareName: share.exportPath,
    hostPath: share.hostPath,
    guestUnitName: share.guestUnitName,
  };
};
