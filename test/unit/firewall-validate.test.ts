/** ShareFirewall input checks: every problem at once, each naming the field, the value and the fix. */
import { parseAddress, validateShareFirewall, ShareFirewallOptions } from "../../components/firewall";
import { UNKNOWN } from "../../core/validate";

const ok: ShareFirewallOptions = { allowedSources: ["192.168.122.10"] };

describe("parseAddress canonicalizes to the text nft prints back", () => {
  it.each([
    ["192.168.122.10", "192.168.122.10", 4],
    ["192.168.122.0/24", "192.168.122.0/24", 4],
    ["10.0.1.7/32", "10.0.1.7", 4],
    ["fd00:0::0:1", "fd00::1", 6],
    ["FD00:1:0::/64", "fd00:1::/64", 6],
    ["2001:db8::1/128", "2001:db8::1", 6],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 6],
    // What an export to `*` hands over (exports' allowedSourcesOf): everyone, on purpose.
    ["0.0.0.0/0", "0.0.0.0/0", 4],
    ["::/0", "::/0", 6],
  ])("%s -> %s", (input, text, family) => {
    expect(parseAddress(input)).toEqual({ ok: true, address: { family, text } });
  });

  it.each([
    ["10.0.0.5/24", /host bits set; did you mean '10\.0\.0\.0\/24' \(the subnet\) or '10\.0\.0\.5'/],
    ["fd00:1::5/64", /host bits set; did you mean 'fd00:1::\/64'/],
    ["10.0.0.1/33", /invalid prefix length '\/33' \(IPv4 prefixes are 0-32\)/],
    ["fd00::/129", /invalid prefix length '\/129'/],
    ["10.0.0.0/0", /host bits set; did you mean '0\.0\.0\.0\/0'/],
    ["*", /is not an address; .*to allow everyone on purpose, write 0\.0\.0\.0\/0 and ::\/0 and set allowAnySource: true/],
    ["nas.example", /host names are not resolved/],
    ["10.0.0.256", /must be an IPv4\/IPv6 address or a CIDR/],
    ["::ffff:10.0.0.1", /IPv4-mapped .*'10\.0\.0\.1'/],
    ["fe80::1%eth0", /zone index .*allowedInterfaces/],
  ])("refuses %s", (input, message) => {
    const r = parseAddress(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
  });
});

describe("validateShareFirewall", () => {
  it("accepts a minimal allow-list and a full configuration", () => {
    expect(validateShareFirewall(ok)).toEqual([]);
    expect(
      validateShareFirewall({
        services: ["nfs", "smb"],
        nfsV3: true,
        mountdPort: 892,
        extraPorts: [{ port: 32765, endPort: 32768, protocol: "udp" }],
        allowedSources: ["192.168.122.0/24", "fd00:122::/64"],
        allowedInterfaces: ["virbr0", "vnet*"],
        action: "drop",
        counter: false,
        logRatePerMinute: 10,
        logPrefix: "share refused: ",
        tableName: "kvmshare_lab",
        netns: "lab-1",
        persistPath: "/etc/nftables.d/lab.nft",
      }),
    ).toEqual([]);
    expect(validateShareFirewall({ denyAll: true })).toEqual([]);
  });

  it.each<[string, ShareFirewallOptions, string, RegExp]>([
    ["bad CIDR", { allowedSources: ["10.0.0.0/33"] }, "allowedSources[0]", /invalid prefix length/],
    ["port out of range", { ...ok, extraPorts: [{ port: 70000 }] }, "extraPorts[0].port", /integer from 1 to 65535/],
    ["port 0", { ...ok, extraPorts: [{ port: 0 }] }, "extraPorts[0].port", /integer from 1 to 65535/],
    ["inverted range", { ...ok, extraPorts: [{ port: 900, endPort: 800 }] }, "extraPorts[0].endPort", /must not be below port \(900\)/],
    ["unknown protocol", { ...ok, extraPorts: [{ port: 900, protocol: "sctp" as "tcp" }] }, "extraPorts[0].protocol", /one of tcp, udp/],
    ["empty allow-list", {}, "allowedSources", /is empty .*set denyAll: true/],
    ["empty lists given explicitly", { allowedSources: [], allowedInterfaces: [] }, "allowedSources", /is empty/],
    ["denyAll with an allow-list", { denyAll: true, allowedSources: ["10.0.0.1"] }, "denyAll", /cannot be combined/],
    ["unknown service", { ...ok, services: ["iscsi" as "nfs"] }, "services[0]", /one of nfs, smb/],
    ["nothing to protect", { ...ok, services: [] }, "services", /nothing to protect/],
    ["nfsV3 without nfs", { ...ok, services: ["smb"], nfsV3: true }, "nfsV3", /needs 'nfs' in services/],
    ["mountdPort without nfsV3", { ...ok, mountdPort: 892 }, "mountdPort", /only applies with nfsV3: true/],
    ["mountdPort out of range", { ...ok, nfsV3: true, mountdPort: 65536 }, "mountdPort", /1 to 65535/],
    ["interface name too long", { allowedInterfaces: ["averyveryverylongname"] }, "allowedInterfaces[0]", /1-15 letters/],
    ["interface name with a quote", { allowedInterfaces: ['br0"; flush ruleset'] }, "allowedInterfaces[0]", /interface name/],
    ["a bare wildcard interface (every interface)", { allowedInterfaces: ["*"] }, "allowedInterfaces[0]", /interface name/],
    ["action", { ...ok, action: "deny" as "drop" }, "action", /one of drop, reject/],
    ["log rate", { ...ok, logRatePerMinute: -1 }, "logRatePerMinute", /0 turns logging off/],
    ["log prefix quote", { ...ok, logPrefix: 'x" drop' }, "logPrefix", /without quotes/],
    ["table name", { ...ok, tableName: "my table" }, "tableName", /starting with a letter/],
    ["netns name", { ...ok, netns: "../etc" }, "netns", /network namespace name/],
    ["relative persistPath", { ...ok, persistPath: "nftables.d/x.nft" }, "persistPath", /absolute path/],
    ["persistPath with persist: false", { ...ok, persist: false, persistPath: "/etc/x.nft" }, "persistPath", /ignored with persist: false/],
    ["non-boolean", { ...ok, counter: "yes" as unknown as boolean }, "counter", /true or false/],
  ])("%s", (_title, options, field, message) => {
    const problems = validateShareFirewall(options);
    const p = problems.find((x) => x.field === field);
    expect(p).toBeDefined();
    expect(p!.message).toMatch(message);
  });

  it("lists every problem at once, with the value received", () => {
    const problems = validateShareFirewall({
      allowedSources: ["10.0.0.5/24", "nas.example", "10.0.0.1"],
      extraPorts: [{ port: 70000 }, { port: 22 }],
      action: "deny" as "drop",
    });
    expect(problems.map((p) => p.field)).toEqual(["extraPorts[0].port", "allowedSources[0]", "allowedSources[1]", "action"]);
    expect(problems[1].value).toBe("10.0.0.5/24");
  });

  it("skips values not known yet at preview, and does not call an unknown list empty", () => {
    expect(validateShareFirewall({ allowedSources: UNKNOWN as unknown as string[] })).toEqual([]);
    expect(validateShareFirewall({ allowedSources: ["10.0.0.1", UNKNOWN] })).toEqual([]);
    expect(validateShareFirewall({ allowedInterfaces: UNKNOWN as unknown as string[] })).toEqual([]);
  });
});
