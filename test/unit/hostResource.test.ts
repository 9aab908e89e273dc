/** HostResource under setMocks: what a component hands the engine. */
import * as pulumi from "@pulumi/pulumi";
import { HostResource, providerFor } from "../../core/hostResource";
import { mockPulumi, resolved } from "./mocks";

const { registered } = mockPulumi();


describe("HostResource", () => {

  it("registers as a kvmshare dynamic type with the serialized provider", async () => {
    const r = new HostResource("ManagedFile", "cfg", { spec: { path: "/tmp/x", content: "" } });
    await resolved(r.urn);
    const args = registered.find((a) => a.name === "cfg")!;
    expect(args.type).toBe("pulumi-nodejs:dynamic/kvmshare:ManagedFile");
    expect(typeof args.inputs.__provider).toBe("string");
    // The serialized provider only carries paths: small, and no native handles.
    expect(args.inputs.__provider.length).toBeLessThan(20_000);
    expect(args.inputs.__provider).toContain("providerImpl");
    // Portable: the kind is named by id and kvmshare by package name, never by a path of this checkout.
    expect(args.inputs.__provider).toContain('"ManagedFile"');
    expect(args.inputs.__provider).toContain("kvmshare/dist/provider/providerImpl");
    expect(args.inputs.__provider).not.toContain(process.cwd());
    expect(args.inputs.__provider).not.toContain(__dirname);
    expect(args.inputs.connection.value).toEqual({ kind: "local" });
  });

  it("marks secrets and the connection as secret outputs", async () => {
    const r = new HostResource("ManagedFile", "withsecret", {
      connection: { kind: "ssh", host: "guest", privateKey: "KEY", hostKeySha256: "SHA256:x" },
      spec: { path: "/tmp/y", content: "" },
      secrets: { password: "hunter2" },
    });
    await resolved(r.urn);
    const args = registered.find((a) => a.name === "withsecret")!;
    // Sent to the engine wrapped as a secret, so state encrypts it.
    expect(args.inputs.secrets).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: { password: "hunter2" },
    });
    // The connection may carry a private key: secret too.
    expect(args.inputs.connection["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
    expect(args.inputs.connection.value.privateKey).toBe("KEY");
  });

  it("reuses one provider object per kind", () => {
    expect(providerFor("ManagedFile")).toBe(providerFor("ManagedFile"));
  });
});
