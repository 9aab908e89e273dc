/**
 * Composable with other resources: a guest address that is an Output of another resource (the VM
 * that made the guest) feeds an NfsExport and a ShareFirewall. Known values are validated at
 * construction; values known later are validated in the provider's check, so preview still lists
 * every problem.
 */
import * as pulumi from "@pulumi/pulumi";
import { ShareFirewall } from "../../components/firewall";
import { NfsExport } from "../../components/nfs";
import { check } from "../../provider/providerImpl";
import { UNKNOWN } from "../../core/validate";
import { mockPulumi, resolved } from "./mocks";

const { byName } = mockPulumi();

/** Stands in for the resource that made the VM: its address is known only after it exists. */
function vmAddress(addr: string): pulumi.Output<string> {
  return pulumi.output(new Promise<string>((r) => setTimeout(() => r(addr), 10)));
}

describe("an export and a firewall fed a guest address from another resource", () => {
  it("carries the address into the export's clients and, through allowedSources, the firewall", async () => {
    const exp = new NfsExport("vmdata", { path: "/srv/vmdata", clients: [vmAddress("192.168.122.42")], exportsDir: "/tmp/x" });
    const fw = new ShareFirewall("fw", { allowedSources: exp.allowedSources, services: ["nfs"] });
    expect(await resolved(exp.allowedSources)).toEqual(["192.168.122.42"]);
    await resolved(fw.nftables.urn);
    await resolved(exp.observed);
    const spec = byName("vmdata-export").inputs.spec as { clients: { host: string }[] };
    expect(spec.clients.map((c) => c.host)).toEqual(["192.168.122.42"]);
    expect((byName("fw-nftables").inputs.spec as { allowedSources: string[] }).allowedSources).toEqual(["192.168.122.42"]);
  });

  it("refuses at construction a known client that opens the export to everyone, naming the field", () => {
    expect(() => new NfsExport("open", { path: "/srv/x", clients: ["0.0.0.0/0"], exportsDir: "/tmp/x" })).toThrow(/clients\[0\]/);
  });

  it("refuses the same address arriving later as an Output, in the provider's check (preview)", async () => {
    const r = await check("NfsExport", { spec: {} } as never, {
      connection: UNKNOWN as never,
      spec: { name: "late", path: "/srv/x", backend: "kernel", clients: [{ host: "0.0.0.0/0", access: "rw", squash: "root_squash", sync: true, sec: ["sys"] }], exportsDir: "/tmp/x", file: "/tmp/x/late.exports", reloadCommand: ["true"], check: true, allowAnyClient: false, acknowledgeNoRootSquash: false },
    });
    expect(r.failures.map((f) => f.property)).toContain("clients[0].host");
    expect(r.failures.find((f) => f.property === "clients[0].host")?.reason).toMatch(/allowAnyClient/);
  });
});
