/** validateNetworkTuning: every bad input named with its field, value and fix, all at once. */
import { NetworkTuningArgs, resolveNetworkTuning, validateNetworkTuning } from "../../components/network";
import { formatProblem } from "../../core/errors";

const messages = (args: NetworkTuningArgs, name = "t") => validateNetworkTuning(name, args).map(formatProblem);

describe("validateNetworkTuning", () => {
  it("accepts a full, valid set of arguments", () => {
    expect(
      messages({
        device: "br0",
        netns: "guests",
        sysctl: { tcpCongestionControl: "bbr", somaxconn: 4096, tcpRmem: [4096, 131072, 33554432], tcpWindowScaling: true, extra: { "net.ipv4.tcp_mtu_probing": 1 } },
        mtu: 9000,
        shaping: { kind: "htb", rateMbit: 1000, classes: [{ id: 16, rateMbit: 300, matchDst: ["192.168.122.10"] }, { id: 32, rateMbit: 200 }] },
        ethtool: { offloads: { tso: true, gro: true }, rings: { rx: 4096 }, channels: { combined: 4 }, coalesce: { rxUsecs: 50, adaptiveRx: true } },
        bootUnit: {},
      }),
    ).toEqual([]);
  });

  describe.each<[string, NetworkTuningArgs, RegExp]>([
    ["nothing to tune", {}, /^\(args\): nothing to tune: set at least one of sysctl, mtu, shaping, ethtool/],
    ["mtu without a device", { mtu: 9000 }, /^device: is required with mtu: name the interface/],
    ["a device name with a slash", { device: "eth/0", mtu: 9000 }, /^device: must be a network interface name.*\(got 'eth\/0'\)/],
    ["a device name longer than 15", { device: "a234567890123456", mtu: 9000 }, /^device: must be a network interface name/],
    ["a netns with a space", { netns: "my ns", sysctl: { somaxconn: 1 } }, /^netns: must be a network namespace name .*\(got 'my ns'\)/],
    ["an MTU below 68", { device: "br0", mtu: 60 }, /^mtu: must be an integer from 68 to 65535 .*\(got 60\)/],
    ["an MTU of 16777216", { device: "br0", mtu: 16_777_216 }, /^mtu: must be an integer from 68 to 65535 .*\(got 16777216\)/],
    ["an MTU of 65536 on an Ethernet-like link", { device: "br0", mtu: 65536 }, /^mtu: must be an integer from 68 to 65535 /],
    ["a sysctl key climbing out of /proc/sys", { sysctl: { extra: { "net.//.//.//.etc.hostname": "x" } } }, /^sysctl\.extra\["net\.\/\/\.\/\/\.\/\/\.etc\.hostname"\]: has a level that is empty or only '\/'/],
    ["a sysctl key with a '/' level", { sysctl: { extra: { "net./.x": "1" } } }, /^sysctl\.extra\["net\.\/\.x"\]: has a level that is empty or only '\/'/],
    ["a tbf rate that is not a number", { device: "br0", shaping: { kind: "tbf", rateMbit: "fast" as never } }, /^shaping\.rateMbit: must be a rate in Mbit\/s from 0\.008.*\(got 'fast'\)$/],
    ["a relative stateDir", { stateDir: "var/lib", sysctl: { somaxconn: 1 } }, /^stateDir: must be an absolute path/],
    ["tcp_rmem not ascending", { sysctl: { tcpRmem: [4096, 1024, 8192] } }, /^sysctl\.tcpRmem: must be \[min, default, max\] bytes with min <= default <= max.*\(got \[4096,1024,8192\]\)/],
    ["a congestion control with a space", { sysctl: { tcpCongestionControl: "b br" } }, /^sysctl\.tcpCongestionControl: must be an algorithm name like 'bbr'/],
    ["somaxconn 0", { sysctl: { somaxconn: 0 } }, /^sysctl\.somaxconn: must be an integer from 1 to 2147483647 \(got 0\)/],
    ["an extra key repeating a typed field", { sysctl: { extra: { "net.core.somaxconn": 1 } } }, /^sysctl\.extra\["net\.core\.somaxconn"\]: is the typed field sysctl\.somaxconn; set it there instead/],
    ["an extra key with a space", { sysctl: { extra: { "net core": 1 } } }, /^sysctl\.extra\["net core"\]: must be a dotted sysctl key/],
    ["an extra value with a newline", { sysctl: { extra: { "net.ipv4.tcp_ecn": "1\nvm.x=1" } } }, /^sysctl\.extra\["net\.ipv4\.tcp_ecn"\]: value of net\.ipv4\.tcp_ecn must be a non-empty single-line string/],
    ["a tbf rate of 0", { device: "br0", shaping: { kind: "tbf", rateMbit: 0 } }, /^shaping\.rateMbit: must be a rate in Mbit\/s from 0\.008/],
    ["a tbf burst too small for the rate", { device: "br0", shaping: { kind: "tbf", rateMbit: 10000, burstKiB: 2 } }, /^shaping\.burstKiB: is smaller than one ms at 10000 Mbit\/s.*use at least 12500/],
    ["an unknown shaping kind", { device: "br0", shaping: { kind: "netem", rateMbit: 1 } as never }, /^shaping\.kind: must be one of tbf, htb \(got 'netem'\)/],
    ["htb without classes", { device: "br0", shaping: { kind: "htb", rateMbit: 100, classes: [] } }, /^shaping\.classes: must list at least one class/],
    ["htb class id 1", { device: "br0", shaping: { kind: "htb", rateMbit: 100, classes: [{ id: 1, rateMbit: 10 }] } }, /^shaping\.classes\[0\]\.id: must be an integer from 2 to 65535 \(1 is the root class/],
    ["htb rates over the root", { device: "br0", shaping: { kind: "htb", rateMbit: 100, classes: [{ id: 2, rateMbit: 80 }, { id: 3, rateMbit: 80 }] } }, /^shaping\.classes: guaranteed rates add up to more than the root rate \(100 Mbit\/s\).*\(got 160\)/],
    ["htb ceil over the root", { device: "br0", shaping: { kind: "htb", rateMbit: 100, classes: [{ id: 2, rateMbit: 10, ceilMbit: 200 }] } }, /^shaping\.classes\[0\]\.ceilMbit: must not exceed the root rate \(100\)/],
    ["htb match that is not IPv4", { device: "br0", shaping: { kind: "htb", rateMbit: 100, classes: [{ id: 2, rateMbit: 10, matchDst: ["fd00::1"] }] } }, /^shaping\.classes\[0\]\.matchDst\[0\]: must be an IPv4 address or CIDR/],
    ["htb default class that does not exist", { device: "br0", shaping: { kind: "htb", rateMbit: 100, defaultClass: 9, classes: [{ id: 2, rateMbit: 10 }] } }, /^shaping\.defaultClass: must be one of the class ids \(2\) \(got 9\)/],
    ["an unknown ring field", { device: "br0", ethtool: { rings: { big: 1 } as never } }, /^ethtool\.rings\.big: is not a known field; use rx, tx, rxMini, rxJumbo/],
    ["an offload that is not a boolean", { device: "br0", ethtool: { offloads: { tso: "on" as never } } }, /^ethtool\.offloads\.tso: must be true \(on\) or false \(off\)/],
    ["ethtool that sets nothing", { device: "br0", ethtool: {} }, /^ethtool: sets nothing: give offloads, rings, channels or coalesce/],
    ["a boot unit with nothing to re-apply", { sysctl: { somaxconn: 1 }, bootUnit: {} }, /^bootUnit: has nothing to re-apply: host sysctls are loaded at boot by systemd-sysctl/],
    ["a negative channel count", { device: "br0", ethtool: { channels: { combined: -1 } } }, /^ethtool\.channels\.combined: must be an integer from 0/],
  ])("rejects %s", (_what, args, expected) => {
    it("with the field, the value and the fix", () => {
      expect(messages(args)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
    });
  });

  it("lists every problem, not just the first", () => {
    const m = messages({ device: "bad/name", mtu: 1, sysctl: { somaxconn: -1, tcpWmem: [1, 2] as never }, shaping: { kind: "tbf", rateMbit: -5 } });
    expect(m.map((x) => x.split(":")[0]).sort()).toEqual(["device", "mtu", "shaping.rateMbit", "sysctl.somaxconn", "sysctl.tcpWmem"]);
  });
});

describe("resolveNetworkTuning defaults", () => {
  it("puts a host profile in /etc/sysctl.d/90-kvmshare-<name>.conf and a namespace's outside it", () => {
    expect(resolveNetworkTuning("web", { sysctl: { somaxconn: 1 } }).resolved.sysctl).toMatchObject({ dir: "/etc/sysctl.d", name: "90-kvmshare-web", stateDir: "/var/lib/kvmshare/network", restoreOnRemove: true });
    expect(resolveNetworkTuning("web", { netns: "g", sysctl: { somaxconn: 1 } }).resolved.sysctl).toMatchObject({ dir: "/etc/kvmshare/sysctl.d", netns: "g" });
  });

  it("maps typed sysctl fields to keys, booleans to 1/0, triples to space-separated values", () => {
    const s = resolveNetworkTuning("t", { sysctl: { tcpCongestionControl: "bbr", tcpRmem: [1, 2, 3], tcpWindowScaling: false, rmemMax: 9, extra: { "net.ipv4.tcp_ecn": 1 } } }).resolved.sysctl!;
    expect(s.settings).toEqual([
      { key: "net.ipv4.tcp_congestion_control", value: "bbr", field: "sysctl.tcpCongestionControl" },
      { key: "net.ipv4.tcp_rmem", value: "1 2 3", field: "sysctl.tcpRmem" },
      { key: "net.core.rmem_max", value: "9", field: "sysctl.rmemMax" },
      { key: "net.ipv4.tcp_window_scaling", value: "0", field: "sysctl.tcpWindowScaling" },
      { key: "net.ipv4.tcp_ecn", value: "1", field: 'sysctl.extra["net.ipv4.tcp_ecn"]' },
    ]);
  });

  it("gives tbf a burst of ~10 ms at the rate (at least 32 KiB) and 50 ms latency", () => {
    expect(resolveNetworkTuning("t", { device: "br0", shaping: { kind: "tbf", rateMbit: 200 } }).resolved.shaping!.shaping).toEqual({ kind: "tbf", rateMbit: 200, burstKiB: 250, latencyMs: 50 });
    expect(resolveNetworkTuning("t", { device: "br0", shaping: { kind: "tbf", rateMbit: 1 } }).resolved.shaping!.shaping).toMatchObject({ burstKiB: 32 });
  });

  it("lets htb classes borrow up to the root rate and sends unmatched traffic to the last class", () => {
    const sh = resolveNetworkTuning("t", { device: "br0", shaping: { kind: "htb", rateMbit: 1000, classes: [{ id: 16, rateMbit: 100 }, { id: 32, rateMbit: 200 }] } }).resolved.shaping!.shaping;
    expect(sh).toEqual({
      kind: "htb",
      rateMbit: 1000,
      defaultClass: 32,
      classes: [
        { id: 16, rateMbit: 100, ceilMbit: 1000, prio: 0, matchDst: [], matchSrc: [] },
        { id: 32, rateMbit: 200, ceilMbit: 1000, prio: 0, matchDst: [], matchSrc: [] },
      ],
    });
  });

  it("translates ethtool fields to ethtool's parameter names and fails on unsupported settings by default", () => {
    const e = resolveNetworkTuning("t", { device: "eth0", ethtool: { rings: { rxJumbo: 1 }, coalesce: { rxUsecs: 8, adaptiveTx: true } } }).resolved.ethtool!;
    expect(e).toMatchObject({ rings: { "rx-jumbo": 1 }, coalesce: { "rx-usecs": 8, "adaptive-tx": 1 }, channels: {}, offloads: {}, failOnUnsupported: true });
  });
});
