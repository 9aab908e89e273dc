/** Parsing tc and ethtool output back into state (samples captured from iproute2 6.1 / ethtool 6.1). */
import { isUnsupported, offloadName, parseChannels, parseCoalesce, parseFeatures, parseRings } from "../../components/network/ethtoolParse";
import { minorOf, parseHtbClasses, parseRateKbit, parseRootQdisc, parseU32Filters } from "../../components/network/tcParse";

describe("tc", () => {
  it.each([
    ["300Mbit", 300_000],
    ["1Gbit", 1_000_000],
    ["1500Kbit", 1500],
    ["64bit", 0],
    ["12500bit", 13],
    ["25Mbps", 200_000],
    ["fast", undefined],
  ])("reads rate %s as %s kbit/s", (text, kbit) => expect(parseRateKbit(text)).toBe(kbit));

  it("reads class minors in hex", () => {
    expect([minorOf("1:a"), minorOf("1:10"), minorOf("1:"), minorOf("8001:ffff")]).toEqual([10, 16, 0, 65535]);
  });

  it("normalises a tbf root qdisc (rate bytes/s -> kbit, burst rounded to KiB, latency us -> ms)", () => {
    const json = '[{"kind":"tbf","handle":"1:","root":true,"refcnt":3,"options":{"rate":25000000,"burst":262125,"lat":50000}}]';
    expect(parseRootQdisc(json)).toEqual({ kind: "tbf", handle: "1:", rateKbit: 200_000, burstKiB: 256, latencyMs: 50 });
  });

  it("reads htb's default class (hex) and a device's default qdisc", () => {
    expect(parseRootQdisc('[{"kind":"htb","handle":"1:","root":true,"options":{"r2q":10,"default":"0x20","direct_packets_stat":0}}]')).toEqual({ kind: "htb", handle: "1:", defaultClass: 32 });
    expect(parseRootQdisc('[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}}]')).toEqual({ kind: "noqueue", handle: "0:" });
    expect(parseRootQdisc("[]")).toBeUndefined();
  });

  it("parses htb classes from the text iproute2 6.1 prints even with -j", () => {
    const text = [
      "class htb 1:10 parent 1:1 prio 1 rate 300Mbit ceil 800Mbit burst 1537b cburst 1600b ",
      "class htb 1:1 root rate 1Gbit ceil 1Gbit burst 1375b cburst 1375b ",
      "class htb 1:20 parent 1:1 leaf 8002: prio 0 rate 100Mbit ceil 1Gbit burst 1600b cburst 1375b ",
    ].join("\n");
    expect(parseHtbClasses(text)).toEqual([
      { id: 1, parent: 0, rateKbit: 1_000_000, ceilKbit: 1_000_000, prio: 0 },
      { id: 16, parent: 1, rateKbit: 300_000, ceilKbit: 800_000, prio: 1 },
      { id: 32, parent: 1, rateKbit: 100_000, ceilKbit: 1_000_000, prio: 0 },
    ]);
  });

  it("parses htb classes printed as JSON (rates in bytes/s) by newer iproute2", () => {
    const json = '[{"class":"htb","handle":"1:a","parent":"1:1","prio":2,"rate":12500000,"ceil":25000000},{"class":"htb","handle":"1:1","root":true,"rate":125000000,"ceil":125000000}]';
    expect(parseHtbClasses(json)).toEqual([
      { id: 1, parent: 0, rateKbit: 1_000_000, ceilKbit: 1_000_000, prio: 0 },
      { id: 10, parent: 1, rateKbit: 100_000, ceilKbit: 200_000, prio: 2 },
    ]);
  });

  it("turns u32 matches back into addresses (offset 16 dst, 12 src) and skips hash-table entries", () => {
    const json =
      '[{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0},' +
      '{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0,"options":{"fh":"800:","ht_divisor":1}},' +
      '{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0,"options":{"fh":"800::800","order":2048,"key_ht":"800","bkt":"0","flowid":"1:a","not_in_hw":true,"match":{"value":"ac90002","mask":"ffffffff","offmask":"","off":16}}},' +
      '{"parent":"1:","protocol":"ip","pref":1,"kind":"u32","chain":0,"options":{"fh":"800::801","flowid":"1:20","match":{"value":"c0a87a00","mask":"ffffff00","offmask":"","off":12}}}]';
    expect(parseU32Filters(json)).toEqual([
      { classId: 10, match: "dst 10.201.0.2/32" },
      { classId: 32, match: "src 192.168.122.0/24" },
    ]);
  });
});

describe("ethtool", () => {
  it("maps -K aliases to the names -k prints", () => {
    expect(["tso", "gro", "lro", "rxvlan", "rx-gro-list"].map(offloadName)).toEqual([
      "tcp-segmentation-offload", "generic-receive-offload", "large-receive-offload", "rx-vlan-offload", "rx-gro-list",
    ]);
  });

  it("parses -k features with their [fixed] flag", () => {
    const text = "Features for veth0:\nrx-checksumming: on\ntx-checksumming: on\n\ttx-checksum-ipv4: off [fixed]\ngeneric-receive-offload: off\nlarge-receive-offload: off [fixed]\nrx-lro: off [requested on]\n";
    expect(parseFeatures(text)).toEqual({
      "rx-checksumming": { on: true, fixed: false },
      "tx-checksumming": { on: true, fixed: false },
      "tx-checksum-ipv4": { on: false, fixed: true },
      "generic-receive-offload": { on: false, fixed: false },
      "large-receive-offload": { on: false, fixed: true },
      "rx-lro": { on: false, fixed: false },
    });
  });

  it("parses -l channels (n/a left out) and -g rings", () => {
    const l = "Channel parameters for veth0:\nPre-set maximums:\nRX:\t\t2\nTX:\t\t2\nOther:\t\tn/a\nCombined:\tn/a\nCurrent hardware settings:\nRX:\t\t1\nTX:\t\t1\nOther:\t\tn/a\nCombined:\tn/a\n";
    expect(parseChannels(l)).toEqual({ max: { rx: 2, tx: 2 }, current: { rx: 1, tx: 1 } });
    const g = "Ring parameters for eth0:\nPre-set maximums:\nRX:\t\t4096\nRX Mini:\tn/a\nRX Jumbo:\tn/a\nTX:\t\t4096\nCurrent hardware settings:\nRX:\t\t256\nRX Mini:\tn/a\nRX Jumbo:\tn/a\nTX:\t\t256\nRX Buf Len:\t\tn/a\nCQE Size:\t\tn/a\nTX Push:\toff\n";
    expect(parseRings(g)).toEqual({ max: { rx: 4096, tx: 4096 }, current: { rx: 256, tx: 256 } });
  });

  it("parses -c coalescing, adaptive flags as 1/0", () => {
    const c = "Coalesce parameters for eth0:\nAdaptive RX: on  TX: off\nstats-block-usecs: n/a\nsample-interval: n/a\nrx-usecs: 3\nrx-frames: n/a\ntx-usecs: 8\ntx-frames: 0\n";
    expect(parseCoalesce(c)).toEqual({ "adaptive-rx": 1, "adaptive-tx": 0, "rx-usecs": 3, "tx-usecs": 8, "tx-frames": 0 });
  });

  it("tells 'the driver cannot' from other failures", () => {
    expect(isUnsupported("netlink error: Operation not supported")).toBe(true);
    expect(isUnsupported("netlink error: no device matches name (offset 24)")).toBe(false);
  });
});
