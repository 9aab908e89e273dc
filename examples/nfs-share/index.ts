/**
 * Export a ZFS dataset to one guest over NFSv4.2, with host network tuning and an nftables
 * allow-list, mounted in the guest by a verified systemd unit.
 *
 *   pulumi config set guestAddress 192.168.122.10
 *   pulumi config set --secret --path 'guestConnection.privateKey' "$(cat ~/.ssh/id_ed25519)"
 *   pulumi up
 *
 * `sandbox`: everything lands below one directory on this machine (exports.d, sysctl.d, the
 * guest's unit files), the export is still checked by exportfs and the units by systemd, but
 * nothing is reloaded or started. Network tuning and the firewall then run in `netns`.
 */
import * as pulumi from "@pulumi/pulumi";
import { core, HostGuestShare } from "kvmshare";

export = async () => {
  const cfg = new pulumi.Config();
  const sandbox = cfg.get("sandbox");
  const under = (p: string) => (sandbox ? `${sandbox}${p}` : p);
  const dataset = cfg.get("dataset");
  const device = cfg.get("device");
  const netns = cfg.get("netns");
  const guestConnection = cfg.getSecretObject<core.ConnectionSpec>("guestConnection");

  const share = new HostGuestShare("vmshare", {
    protocol: "nfs",
    ...(dataset
      ? { dataset: { datasetName: dataset, properties: { compression: "lz4", atime: "off", recordsize: "1M", mountpoint: `/${dataset}` } } }
      : { hostPath: cfg.get("hostPath") ?? under("/srv/vmshare") }),
    serverAddress: cfg.get("serverAddress") ?? "192.168.122.1",
    guest: {
      address: cfg.get("guestAddress") ?? "192.168.122.10",
      connection: guestConnection,
      mountPoint: "/mnt/vmshare",
      mount: sandbox ? { root: under("/guest"), activation: "enable" } : { automount: false },
    },
    nfs: {
      export: {
        fsid: 1,
        ...(sandbox ? { exportsDir: under("/etc/exports.d"), kernel: { mainExportsFile: "", etabPath: "" }, reloadCommand: ["true"] } : {}),
      },
      mount: { nconnect: 4, rsizeBytes: 1048576, wsizeBytes: 1048576 },
    },
    network: device
      ? {
          device,
          netns,
          mtu: cfg.getNumber("mtu") ?? 9000,
          sysctl: { tcpCongestionControl: "bbr", somaxconn: 4096, tcpWindowScaling: true, ...(sandbox ? { dir: under("/etc/sysctl.d") } : {}) },
          ...(sandbox ? { stateDir: under("/var/lib/kvmshare/network") } : {}),
        }
      : undefined,
    firewall: cfg.getBoolean("firewall") ? { netns, ...(sandbox ? { persistPath: under("/etc/nftables.d/kvmshare.nft") } : {}) } : false,
  });

  return {
    mountPath: share.mountPath,
    exportPath: share.exportPath,
    hostPath: share.hostPath,
    guestUnitName: share.guestUnitName,
  };
};
