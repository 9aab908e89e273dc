/**
 * Share a directory (or a new ZFS dataset) with a libvirt guest over virtiofs: the domain gets a
 * `<filesystem>` with virtiofsd, the shared memfd memory virtiofs needs and optional vCPU/emulator
 * pinning (checked by virt-xml-validate before `virsh define`); the guest gets a systemd mount
 * unit for the tag. A running VM sees the share after its next cold boot (`restartNeeded`).
 *
 *   pulumi config set domain guest01
 *   pulumi config set --path 'vcpuPins[0].vcpu' 0 && pulumi config set --path 'vcpuPins[0].cpuset' 2
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { core, HostGuestShare, VcpuPin } from "kvmshare";

export = async () => {
  const cfg = new pulumi.Config();
  const sandbox = cfg.get("sandbox");
  const dataset = cfg.get("dataset");
  const protocol = cfg.get("protocol") === "9p" ? "9p" : "virtiofs";

  const share = new HostGuestShare("vmdata", {
    protocol,
    host: cfg.getSecretObject<core.ConnectionSpec>("hostConnection"),
    ...(dataset
      ? { dataset: { datasetName: dataset, properties: { compression: "lz4", atime: "off", xattr: "sa", mountpoint: `/${dataset}` } } }
      : { hostPath: cfg.require("hostPath") }),
    guest: {
      connection: cfg.getSecretObject<core.ConnectionSpec>("guestConnection"),
      mountPoint: "/mnt/vmdata",
      mount: sandbox ? { root: `${sandbox}/guest`, activation: "enable" } : { automount: true, automountIdleSec: 0 },
    },
    virtiofs: {
      domain: cfg.require("domain"),
      uri: cfg.get("libvirtUri"),
      tag: "vmdata",
      filesystem: protocol === "virtiofs" ? { cache: "always", xattr: true, posixLock: true, flock: true } : { accessMode: "mapped" },
      vcpuPins: cfg.getObject<VcpuPin[]>("vcpuPins"),
      emulatorPin: cfg.get("emulatorPin"),
    },
  });

  return {
    mountPath: share.mountPath,
    tag: share.exportPath,
    hostPath: share.hostPath,
    guestUnitName: share.guestUnitName,
    restartNeeded: share.restartNeeded,
  };
};
