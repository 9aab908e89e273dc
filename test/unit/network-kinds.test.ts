/** The network kinds' pure parts: commands, rendered files (snapshots), drift comparison. */
import * as pulumi from "@pulumi/pulumi";
import { bootCommands, NetworkTuning, renderBootUnit, resolveNetworkTuning, systemdQuote } from "../../components/network";
import { deviceUnit } from "../../components/network/bootUnit";
import { ethtoolCommands, kind as ethtoolKind, EthtoolSpec } from "../../components/network/ethtoolKind";
import { sysctlPath } from "../../components/network/netHost";
import { kind as sysctlKind, renderProfile } from "../../components/network/sysctlProfileKind";
import { tcCommands } from "../../components/network/tcShapingKind";
import { mockPulumi, resolved } from "./mocks";

describe("commands", () => {
  it("builds tbf as one 'tc qdisc replace' with kbit, bytes and ms", () => {
    expect(tcCommands("br0", { kind: "tbf", rateMbit: 200, burstKiB: 256, latencyMs: 50 }).map((c) => c.argv.join(" "))).toEqual([
      "tc qdisc replace dev br0 root handle 1: tbf rate 200000kbit burst 262144 latency 50ms",
    ]);
  });

  it("builds htb: clean root, qdisc, root class, classes (hex ids), u32 filters", () => {
    const cmds = tcCommands("br0", {
      kind: "htb",
      rateMbit: 1000,
      defaultClass: 32,
      classes: [
        { id: 32, rateMbit: 10, ceilMbit: 1000, prio: 0, matchDst: [], matchSrc: [] },
        { id: 16, rateMbit: 300, ceilMbit: 800, prio: 1, matchDst: ["192.168.122.10"], matchSrc: ["10.0.0.0/8"] },
      ],
    });
    expect(cmds.map((c) => (c.mayFail ? "-" : "") + c.argv.join(" "))).toEqual([
      "-tc qdisc del dev br0 root",
      "tc qdisc add dev br0 root handle 1: htb default 20",
      "tc class add dev br0 parent 1: classid 1:1 htb rate 1000000kbit ceil 1000000kbit burst 1250000 cburst 1250000 quantum 200000",
      "tc class add dev br0 parent 1:1 classid 1:10 htb rate 300000kbit ceil 800000kbit burst 1000000 cburst 1000000 prio 1 quantum 200000",
      "tc class add dev br0 parent 1:1 classid 1:20 htb rate 10000kbit ceil 1000000kbit burst 1250000 cburst 1250000 prio 0 quantum 125000",
      "tc filter add dev br0 parent 1: protocol ip prio 1 u32 match ip dst 192.168.122.10/32 flowid 1:10",
      "tc filter add dev br0 parent 1: protocol ip prio 1 u32 match ip src 10.0.0.0/8 flowid 1:10",
    ]);
  });

  it("builds one ethtool call per group, adaptive flags as on/off", () => {
    const cmds = ethtoolCommands({ device: "eth0", offloads: { tso: false, "rx-gro-list": true }, rings: { rx: 4096 }, channels: {}, coalesce: { "adaptive-rx": 1, "rx-usecs": 50 } });
    expect(cmds.map((c) => c.argv.join(" "))).toEqual([
      "ethtool -K eth0 tcp-segmentation-offload off rx-gro-list on",
      "ethtool -G eth0 rx 4096",
      "ethtool -C eth0 adaptive-rx on rx-usecs 50",
    ]);
  });

  it("finds sysctls under /proc/sys, '/' standing for a dot inside a level", () => {
    expect(sysctlPath("net.ipv4.conf.eth0/100.rp_filter")).toBe("/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
  });
});

describe("rendered files", () => {
  it("sysctl profile for the host", () => {
    const s = resolveNetworkTuning("web", { sysctl: { tcpCongestionControl: "bbr", somaxconn: 4096, tcpRmem: [4096, 131072, 33554432], rmemMax: 33554432, tcpWindowScaling: true } }).resolved.sysctl!;
    expect(renderProfile(s)).toMatchSnapshot();
  });

  it("sysctl profile for a namespace warns that systemd-sysctl must not load it", () => {
    const s = resolveNetworkTuning("web", { netns: "guests", sysctl: { somaxconn: 4096 } }).resolved.sysctl!;
    expect(renderProfile(s)).toContain("keep it out of /etc/sysctl.d");
  });

  it("boot unit for a host interface is bound to its .device unit", () => {
    const r = resolveNetworkTuning("br0-tune", {
      device: "br-guests",
      mtu: 9000,
      ethtool: { offloads: { gro: true }, failOnUnsupported: false },
      shaping: { kind: "tbf", rateMbit: 2000 },
      bootUnit: {},
    }).resolved;
    expect(r.bootUnit!.content).toMatchSnapshot();
    expect(r.bootUnit!.path).toBe("/etc/systemd/system/kvmshare-net-br0-tune.service");
    expect(r.bootUnit!.wantsLink).toBe("/etc/systemd/system/sys-subsystem-net-devices-br\\x2dguests.device.wants/kvmshare-net-br0-tune.service");
  });

  it("boot unit for a namespace waits for it and re-applies its sysctls", () => {
    const r = resolveNetworkTuning("ns", { netns: "guests", device: "veth1", sysctl: { somaxconn: 1024 }, bootUnit: { dir: "/run/systemd/system" } }).resolved;
    expect(r.bootUnit!.content).toMatchSnapshot();
    expect(bootCommands({ name: "ns", netns: "guests", sysctl: r.sysctl })).toEqual(["ip netns exec guests sysctl -q -p /etc/kvmshare/sysctl.d/90-kvmshare-ns.conf"]);
  });

  it("quotes ExecStart arguments the systemd way", () => {
    expect(["a", "a b", 'x"y', "50%", "$HOME", "c\\d"].map(systemdQuote)).toEqual(["a", '"a b"', '"x\\"y"', "50%%", '"$$HOME"', '"c\\\\d"']);
    expect(deviceUnit("eth0.100")).toBe("sys-subsystem-net-devices-eth0.100.device");
    expect(deviceUnit("vnet-3")).toBe("sys-subsystem-net-devices-vnet\\x2d3.device");
  });
});

describe("drift comparison", () => {
  it("names the sysctl key that drifted", () => {
    const spec = resolveNetworkTuning("t", { sysctl: { somaxconn: 4096, tcpCongestionControl: "bbr" } }).resolved.sysctl!;
    const desired = sysctlKind.render(spec, {});
    const observed = { file: desired.file, values: { ...desired.values, "net.core.somaxconn": "128" } };
    expect(sysctlKind.compare!(desired, observed)).toEqual(["values.net.core.somaxconn"]);
    expect(sysctlKind.compare!(desired, { ...desired, file: null })).toEqual(["file"]);
    expect(sysctlKind.project!(spec, observed).settings.find((s) => s.key === "net.core.somaxconn")?.value).toBe("128");
  });

  const ethSpec = (failOnUnsupported: boolean): EthtoolSpec =>
    resolveNetworkTuning("t", { device: "veth0", ethtool: { offloads: { gro: true, lro: true }, rings: { rx: 512 }, failOnUnsupported } }).resolved.ethtool!;
  const vethObserved = { offloads: { "generic-receive-offload": true, "large-receive-offload": false }, fixed: ["large-receive-offload"], rings: "unsupported" as const, channels: {}, coalesce: {} };

  it("counts what the driver cannot do as drift when failOnUnsupported (the default)", () => {
    const desired = ethtoolKind.render(ethSpec(true), {});
    expect(ethtoolKind.compare!(desired, vethObserved)).toEqual(["offloads.large-receive-offload", "rings"]);
  });

  it("ignores what the driver cannot do with failOnUnsupported: false, but not a changeable offload", () => {
    const desired = ethtoolKind.render(ethSpec(false), {});
    expect(ethtoolKind.compare!(desired, vethObserved)).toEqual([]);
    expect(ethtoolKind.compare!(desired, { ...vethObserved, offloads: { ...vethObserved.offloads, "generic-receive-offload": false } })).toEqual(["offloads.generic-receive-offload"]);
  });
});

describe("NetworkTuning under mocks", () => {
  const { registered } = mockPulumi();

  it("creates one child per kind, named <name>-<role>", async () => {
    const t = new NetworkTuning("host", {
      device: "br0",
      sysctl: { tcpCongestionControl: "bbr" },
      mtu: 9000,
      shaping: { kind: "tbf", rateMbit: 500 },
      ethtool: { offloads: { gro: true } },
      bootUnit: { enable: false },
    });
    await resolved(t.urn);
    await resolved(t.tcShaping!.urn);
    const mine = registered.filter((a) => a.name.startsWith("host"));
    expect(mine.map((a) => [a.type, a.name]).sort()).toEqual([
      ["kvmshare:network:NetworkTuning", "host"],
      ["pulumi-nodejs:dynamic/kvmshare:EthtoolSettings", "host-ethtool"],
      ["pulumi-nodejs:dynamic/kvmshare:LinkMtu", "host-mtu"],
      ["pulumi-nodejs:dynamic/kvmshare:ManagedFile", "host-boot-unit"],
      ["pulumi-nodejs:dynamic/kvmshare:SysctlProfile", "host-sysctl"],
      ["pulumi-nodejs:dynamic/kvmshare:TcShaping", "host-shaping"],
    ]);
    const mtu = mine.find((a) => a.name === "host-mtu")!;
    expect(mtu.inputs.spec).toEqual({ device: "br0", mtu: 9000, stateDir: "/var/lib/kvmshare/network", restoreOnRemove: true });
    const unit = mine.find((a) => a.name === "host-boot-unit")!;
    expect(unit.inputs.spec.path).toBe("/etc/systemd/system/kvmshare-net-host.service");
    expect(unit.inputs.spec.checkCommand.slice(-2)).toEqual(["{}", "kvmshare-net-host.service"]);
    expect(unit.inputs.spec.reloadCommand).toBeUndefined();
  });

  it("enables the boot unit by default and removes its link with it", async () => {
    const t = new NetworkTuning("en", { device: "eth0", mtu: 9000, bootUnit: {} });
    await resolved(t.bootUnit!.urn);
    const unit = registered.find((a) => a.name === "en-boot-unit")!;
    expect(unit.inputs.spec.reloadCommand).toEqual(["systemctl", "enable", "kvmshare-net-en.service"]);
    expect(unit.inputs.spec.removeCommand.slice(-1)).toEqual(["/etc/systemd/system/sys-subsystem-net-devices-eth0.device.wants/kvmshare-net-en.service"]);
  });

  it("throws every problem before creating any child", () => {
    const before = registered.length;
    expect(() => new NetworkTuning("bad", { mtu: 10, shaping: { kind: "tbf", rateMbit: 0 } })).toThrow(
      /NetworkTuning bad: 3 invalid inputs:\n {2}- device: is required with mtu, shaping.*\n {2}- mtu: must be an integer from 68.*\n {2}- shaping.rateMbit/,
    );
    expect(registered.length).toBe(before);
  });
});
