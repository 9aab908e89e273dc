/** ShareFirewall under setMocks: what the component hands the engine. */
import * as pulumi from "@pulumi/pulumi";
import { allowedSourcesOf } from "../../core/clients";
import { ShareFirewall, validateShareFirewall } from "../../components/firewall";
import { buildChains } from "../../components/firewall/ruleset";
import { resolveShareFirewall } from "../../components/firewall/shareFirewallArgs";
import { mockPulumi, resolved } from "./mocks";

const { registered, byName } = mockPulumi();


describe("ShareFirewall component", () => {
  it("creates one host resource named <name>-nftables under itself, with the options as its spec", async () => {
    const fw = new ShareFirewall("shares", { allowedSources: ["192.168.122.10"], action: "drop" });
    await resolved(fw.nftables.urn);
    expect(byName("shares").type).toBe("kvmshare:firewall:ShareFirewall");
    const child = byName("shares-nftables");
    expect(child.type).toBe("pulumi-nodejs:dynamic/kvmshare:ShareFirewall");
    expect(child.inputs.spec).toEqual({
      allowedSources: ["192.168.122.10"],
      allowedInterfaces: [],
      action: "drop",
      owner: `${pulumi.getProject()}/${pulumi.getStack()}/shares`,
    });
    expect(await resolved(fw.nftables.urn)).toContain("kvmshare:firewall:ShareFirewall$pulumi-nodejs:dynamic/kvmshare:ShareFirewall::shares-nftables");
    expect(await resolved(fw.table)).toBe("inet kvmshare");
    expect(await resolved(fw.persistPath)).toBe("/etc/nftables.d/kvmshare.nft");
  });

  it("takes the allowed sources from another resource's output (an export's client list)", async () => {
    const fromExport = pulumi.output(["10.0.0.0/24", "fd00::/64"]);
    const fw = new ShareFirewall("composed", { allowedSources: fromExport, allowedInterfaces: [pulumi.output("virbr0")], netns: pulumi.output("lab") });
    await resolved(fw.nftables.urn);
    const child = byName("composed-nftables");
    expect(child.inputs.spec).toMatchObject({ allowedSources: ["10.0.0.0/24", "fd00::/64"], allowedInterfaces: ["virbr0"], netns: "lab" });
  });

  it("rejects invalid plain inputs in the constructor, before any resource is created, listing them all", () => {
    const before = registered.length;
    expect(() => new ShareFirewall("bad", { allowedSources: ["10.0.0.5/24"], extraPorts: [{ port: 70000 }] })).toThrow(
      /ShareFirewall bad: 2 invalid inputs:[\s\S]*extraPorts\[0\]\.port: must be an integer from 1 to 65535 \(got 70000\)[\s\S]*allowedSources\[0\]: has host bits set/,
    );
    expect(() => new ShareFirewall("empty", {})).toThrow(/allowedSources: is empty .*denyAll: true/);
    expect(registered.length).toBe(before);
  });

  it("does not call a list that is an output empty (the provider checks it once known)", () => {
    expect(() => new ShareFirewall("later", { allowedSources: pulumi.output([] as string[]) })).not.toThrow();
  });

  it("names the persistence file after the table and can skip it", async () => {
    const a = new ShareFirewall("named", { allowedSources: ["10.0.0.1"], tableName: "lab" });
    expect(await resolved(a.persistPath)).toBe("/etc/nftables.d/lab.nft");
    const b = new ShareFirewall("volatile", { allowedSources: ["10.0.0.1"], persist: false });
    expect(await resolved(b.persistPath)).toBeUndefined();
  });

  it("accepts what an export's client list becomes, so the export and the firewall agree", () => {
    const sources = allowedSourcesOf(["192.168.122.10", "10.0.0.0/24", "guest.lan", "*"]);
    expect(validateShareFirewall({ allowedSources: sources, allowAnySource: true })).toEqual([]);
    expect(validateShareFirewall({ allowedSources: sources }).map((p) => p.field)).toEqual(["allowedSources[2]", "allowedSources[3]"]);
    expect(buildChains(resolveShareFirewall({ allowedSources: sources })).shares.rules).toEqual(
      expect.arrayContaining(["ip saddr 0.0.0.0/0 counter accept", "ip6 saddr ::/0 counter accept", "ip saddr 10.0.0.0/24 counter accept"]),
    );
  });
});
