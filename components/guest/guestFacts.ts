/**
 * Per-distro facts of the guest area in one table: where systemd keeps its fstab generator, what
 * a guest needs to mount each type, and the host tools the libvirt passthrough runs (Debian
 * package names). A port to another distribution edits this file only.
 */
import type { MountType } from "./mountOptions";

/** Where systemd-fstab-generator lives (Debian before and after the /usr merge). */
export const FSTAB_GENERATORS = ["/lib/systemd/system-generators/systemd-fstab-generator", "/usr/lib/systemd/system-generators/systemd-fstab-generator"];

/** What a mount of each type needs in the guest to really mount (Debian names). */
export const GUEST_NEEDS: Record<MountType, { kind: "command" | "filesystem"; name: string; install: string }[]> = {
  nfs: [{ kind: "command", name: "mount.nfs", install: "apt-get install nfs-common" }],
  smb: [{ kind: "command", name: "mount.cifs", install: "apt-get install cifs-utils" }],
  virtiofs: [{ kind: "filesystem", name: "virtiofs", install: "a kernel with virtiofs (Linux 5.4+, CONFIG_VIRTIO_FS)" }],
  "9p": [{ kind: "filesystem", name: "9p", install: "a kernel with 9p over virtio (CONFIG_9P_FS, CONFIG_NET_9P_VIRTIO)" }],
};

/** The host tools the VirtioFsPassthrough kind runs (Debian package names), checked at preview. */
export const PASSTHROUGH_HOST_TOOLS = [
  { command: "virsh", install: "apt-get install libvirt-clients" },
  { command: "virt-xml-validate", install: "apt-get install libvirt-clients (and libxml2-utils for xmllint)" },
  { command: "xmllint", install: "apt-get install libxml2-utils" },
];
