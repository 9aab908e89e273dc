/**
 * HostGuestShare under Pulumi mocks: which children it creates, how they are wired (paths,
 * clients, allowed sources, tags, dependencies), and its validation table.
 */
import * as pulumi from "@pulumi/pulumi";
import { HostGuestShare, HostGuestShareArgs, validateHostGuestShare } from "../../components/share";
import { formatProblem } from "../../core/errors";
import { mockPulumi } from "./mocks";

process.env.KVMSHARE_QUIET = "1";
const { registered: created } = mockPulumi({
  extraState: (a) => (a.type.includes("ZfsDataset") ? { mountpoint: "/tank/vmshare" } : {}),
});
const settle = () => new Promise((r) => setTimeout(r, 100));
const byName = (n: string) => created.find((c) => c.name === n);
const value = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply(r));
const problems = (a: HostGuestShareArgs) => validateHostGuestShare("s", a).map(formatProblem);

describe("NFS: dataset -> export -> firewall -> guest mount", () => {
  it("wires the dataset's mountpoint into the export and the export path into the guest mount", async () => {
    const s = new HostGuestShare("nfs1", {
      protocol: "nfs",
      dataset: { datasetName: "tank/vmshare", properties: { compression: "lz4" } },
      guest: { address: "192.168.122.10", connection: { kind: "ssh", host: "192.168.122.10", insecureIgnoreHostKey: true } },
      serverAddress: "192.168.122.1",
      firewall: { allowedInterfaces: ["virbr0"] },
    });
    await settle();
    expect(await value(s.mountPath)).toBe("/mnt/nfs1");
    expect(await value(s.guestUnitName)).toBe("mnt-nfs1.mount");
    expect(byName("nfs1-dataset-dataset")?.inputs.spec).toMatchObject({ name: "tank/vmshare" });
    const exp = byName("nfs1-export-export")?.inputs.spec as Record<string, unknown>;
    expect(exp).toMatchObject({ path: "/tank/vmshare", clients: [{ host: "192.168.122.10", access: "rw" }] });
    const fw = byName("nfs1-firewall-nftables")?.inputs.spec as Record<string, unknown>;
    expect(fw).toMatchObject({ services: ["nfs"], allowedSources: ["192.168.122.10"], allowedInterfaces: ["virbr0"] });
    const mount = byName("nfs1-guest-mount")?.inputs;
    expect(mount?.spec).toMatchObject({ where: "/mnt/nfs1", nfs: { server: "192.168.122.1", exportPath: "/tank/vmshare", nconnect: 4 } });
    // the guest connection (a secret: it may hold a key) goes to the guest mount, not to the host side
    expect((mount?.connection as { value: unknown }).value).toMatchObject({ kind: "ssh", host: "192.168.122.10" });
    expect(JSON.stringify(byName("nfs1-export-export")?.inputs.connection)).not.toContain("192.168.122.10");
    expect(await value(s.exportPath)).toBe("/tank/vmshare");
  });

  it("registers export, firewall and guest mount in that order, with `firewall: true` defaults", async () => {
    const s = new HostGuestShare("nfs2", { protocol: "nfs", hostPath: "/srv/x", guest: { address: "10.0.0.2" }, serverAddress: "10.0.0.1", firewall: true });
    await settle();
    const order = created.filter((c) => c.name.startsWith("nfs2-") && c.type.startsWith("pulumi-nodejs")).map((c) => c.name);
    // Host set-up (packages, services) is opt-in: none unless `hostSetup` is set.
    expect(order).toEqual(["nfs2-export-export", "nfs2-firewall-nftables", "nfs2-guest-mount"]);
    expect(byName("nfs2-firewall-nftables")?.inputs.spec).toMatchObject({ services: ["nfs"], allowedSources: ["10.0.0.2"] });
    expect(s.firewall).toBeDefined();
  });

  it("lets the user override the NFS mount (nconnect, version) and export (access)", async () => {
    new HostGuestShare("nfs3", {
      protocol: "nfs",
      hostPath: "/srv/y",
      guest: { address: "10.0.0.2", mountPoint: "/data", mount: { automount: true } },
      serverAddress: "10.0.0.1",
      nfs: { export: { access: "ro" }, mount: { nconnect: 8, version: "4.1" } },
    });
    await settle();
    expect(byName("nfs3-export-export")?.inputs.spec).toMatchObject({ clients: [{ access: "ro" }] });
    expect(byName("nfs3-guest-mount")?.inputs.spec).toMatchObject({ where: "/data", automount: true, nfs: { nconnect: 8, version: "4.1" } });
  });
});

describe("virtiofs and 9p: dataset -> libvirt passthrough -> guest mount", () => {
  it("passes the host path to the domain and mounts the tag in the guest", async () => {
    const s = new HostGuestShare("vfs", {
      protocol: "virtiofs",
      hostPath: "/tank/share",
      guest: {},
      virtiofs: { domain: pulumi.output("vm1"), filesystem: { cache: "always" }, vcpuPins: [{ vcpu: 0, cpuset: "1" }] },
    });
    await settle();
    expect(byName("vfs-passthrough-domain")?.inputs.spec).toMatchObject({
      domain: "vm1",
      filesystems: [{ source: "/tank/share", tag: "vfs", driver: "virtiofs", cache: "always" }],
      vcpuPins: [{ vcpu: 0, cpuset: "1" }],
    });
    expect(byName("vfs-guest-mount")?.inputs.spec).toMatchObject({ where: "/mnt/vfs", virtiofs: { tag: "vfs" } });
    expect(await value(s.exportPath)).toBe("vfs");
  });

  it("9p uses the 9p driver on both sides", async () => {
    new HostGuestShare("p9", { protocol: "9p", hostPath: "/tank/share", guest: {}, virtiofs: { domain: "vm1", tag: "data", ninepMount: { cache: "loose" } } });
    await settle();
    expect(byName("p9-passthrough-domain")?.inputs.spec).toMatchObject({ filesystems: [{ driver: "9p", tag: "data" }] });
    expect(byName("p9-guest-mount")?.inputs.spec).toMatchObject({ ninep: { tag: "data", cache: "loose" } });
  });
});

describe("validation", () => {
  it("needs exactly one of dataset and hostPath", () => {
    expect(problems({ protocol: "virtiofs", guest: {}, virtiofs: { domain: "vm" } }).join()).toMatch(/dataset\|hostPath: set exactly one/);
  });

  it("needs the guest's and the server's address for nfs/smb", () => {
    const m = problems({ protocol: "nfs", hostPath: "/x", guest: {} });
    expect(m).toEqual(["guest.address: is required", "serverAddress: is required"]);
  });

  it("refuses network tuning and a firewall for virtiofs (no network involved)", () => {
    const m = problems({ protocol: "virtiofs", hostPath: "/x", guest: {}, virtiofs: { domain: "vm" }, firewall: true, network: { sysctl: { somaxconn: 1024 } } });
    expect(m).toEqual([
      "network: does not affect virtiofs/9p (no network between host and guest): remove it",
      "firewall: virtiofs/9p open no network port: remove it",
    ]);
  });

  it("refuses settings for another protocol and a missing virtiofs domain", () => {
    const m = problems({ protocol: "9p", hostPath: "/x", guest: {}, nfs: {} });
    expect(m).toEqual(["virtiofs: is required for protocol '9p' ({ domain }: the libvirt domain to pass the directory to)", "nfs: only applies to protocol 'nfs'"]);
  });

  it("throws before creating any child", () => {
    const before = created.length;
    expect(() => new HostGuestShare("bad", { protocol: "ftp" as never, hostPath: "rel", guest: {} })).toThrow(/protocol: must be one of nfs, smb, virtiofs, 9p[\s\S]*hostPath: must be an absolute path/);
    expect(created.length).toBe(before);
  });

  it("child validation still applies (a bad NFS timeo names the field)", () => {
    expect(
      () => new HostGuestShare("badmount", { protocol: "nfs", hostPath: "/x", guest: { address: "10.0.0.2" }, serverAddress: "10.0.0.1", nfs: { mount: { timeoDeciseconds: 1 } } }),
    ).toThrow(/nfs.timeoDeciseconds: must be an integer from 10 to 6000 \(timeo is in tenths of a second: 600 = 60 s\)/);
  });
});
