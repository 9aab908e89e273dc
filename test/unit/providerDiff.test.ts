/** The drift logic of the one dynamic provider, exercised on the ManagedFile kind (pure parts). */
import * as impl from "../../provider/providerImpl";
import { sameJson } from "../../core/hostKind";
import { UNKNOWN } from "../../core/validate";

const KIND = "ManagedFile";
const spec = { path: "/etc/kvmshare/x.conf", content: "a\n", mode: "0644" };
const outputs = (observed: unknown, s: object = spec) => ({
  connection: { kind: "local" as const },
  spec: s,
  observed,
  kind: "ManagedFile",
  kindVersion: 1,
  providerFormat: 2,
});

describe("provider diff", () => {
  it("reports no change when the host matches the inputs", async () => {
    const d = await impl.diff(KIND, "id", outputs({ content: "a\n", mode: "0644" }) as never, { connection: { kind: "local" }, spec });
    expect(d).toMatchObject({ changes: false, replaces: [], diffs: [] });
  });

  it("reports drift observed on the host even when the inputs did not change", async () => {
    const d = await impl.diff(KIND, "id", outputs({ content: "edited\n", mode: "0644" }) as never, { connection: { kind: "local" }, spec });
    expect(d.changes).toBe(true);
    expect(d.diffs).toEqual(["observed.content"]);
  });

  it("reports a file deleted by hand", async () => {
    const d = await impl.diff(KIND, "id", outputs(null) as never, { connection: { kind: "local" }, spec });
    expect(d.changes).toBe(true);
    expect(d.diffs).toContain("observed.(absent on host)");
  });

  it("reports changed inputs by field", async () => {
    const d = await impl.diff(KIND, "id", outputs({ content: "a\n", mode: "0644" }) as never, {
      connection: { kind: "local" },
      spec: { ...spec, mode: "0600" },
    });
    expect(d.diffs).toEqual(expect.arrayContaining(["spec.mode", "observed.mode"]));
  });

  it("replaces the resource when it moves to another host", async () => {
    const d = await impl.diff(KIND, "id", outputs({ content: "a\n", mode: "0644" }) as never, {
      connection: { kind: "ssh", host: "guest1", hostKeySha256: `SHA256:${"A".repeat(43)}` },
      spec,
    });
    expect(d.replaces).toEqual(["connection"]);
  });

  it("treats unknown inputs during preview as a change without rendering them", async () => {
    const d = await impl.diff(KIND, "id", outputs({ content: "a\n", mode: "0644" }) as never, {
      connection: { kind: "local" },
      spec: { ...spec, content: UNKNOWN },
    });
    expect(d.changes).toBe(true);
  });

  it("reports a changed secret without showing it", async () => {
    const d = await impl.diff(KIND, "id", { ...outputs({ content: "a\n", mode: "0644" }), secrets: { pw: "old" } } as never, {
      connection: { kind: "local" },
      spec,
      secrets: { pw: "new" },
    });
    expect(d.diffs).toEqual(["secrets"]);
    expect(JSON.stringify(d)).not.toMatch(/old|new/);
  });

  it("re-applies when the kind's behaviour version changed", async () => {
    const d = await impl.diff(KIND, "id", { ...outputs({ content: "a\n", mode: "0644" }), kindVersion: 0 } as never, {
      connection: { kind: "local" },
      spec,
    });
    expect(d.diffs).toEqual(["kindVersion"]);
  });
});

describe("provider check", () => {
  it("returns every validation failure with its field", async () => {
    const r = await impl.check(KIND, {} as never, { connection: { kind: "local" }, spec: { path: "x", content: 1, mode: "99" } });
    expect(r.failures.map((f) => f.property)).toEqual(["path", "content", "mode"]);
  });

  it("accepts valid inputs unchanged", async () => {
    const news = { connection: { kind: "local" as const }, spec };
    expect(await impl.check(KIND, {} as never, news)).toEqual({ inputs: news, failures: [] });
  });

  it("skips values not known until apply", async () => {
    const r = await impl.check(KIND, {} as never, { connection: { kind: "local" }, spec: { ...spec, path: UNKNOWN } });
    expect(r.failures).toEqual([]);
  });
});

describe("state as the engine stores it", () => {
  it("compares values whatever the order of their keys (the engine sorts them)", async () => {
    const observedSorted = JSON.parse(JSON.stringify({ mode: "0644", content: "a\n" }));
    const d = await impl.diff(KIND, "id", outputs(observedSorted) as never, { connection: { kind: "local" }, spec: { mode: "0644", path: spec.path, content: "a\n" } });
    expect(d).toMatchObject({ changes: false, diffs: [] });
    expect(sameJson({ a: { b: 1, c: [1, 2] } }, { a: { c: [1, 2], b: 1 } })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });
});

describe("provider check and host checks", () => {
  // Nothing listens on port 1 of loopback: a check that connects fails at once.
  const unreachable = { kind: "ssh" as const, host: "127.0.0.1", port: 1, hostKeySha256: `SHA256:${"A".repeat(43)}` };
  const ds = { name: "tank/vm", properties: {}, acls: [] };

  it("runs the host checks at every preview, even when the inputs did not change (a conflict made by hand is named)", async () => {
    await expect(impl.check("ZfsDataset", { connection: unreachable, spec: ds } as never, { connection: unreachable, spec: ds })).rejects.toThrow(/127\.0\.0\.1:1/);
  });

  it("runs the host checks when the inputs changed", async () => {
    await expect(impl.check("ZfsDataset", { connection: unreachable, spec: ds } as never, { connection: unreachable, spec: { ...ds, name: "tank/vm2" } })).rejects.toThrow(/127\.0\.0\.1:1/);
  });
});

describe("state written by an older kvmshare", () => {
  it("is updated in place (never replaced) so the next up stores the portable provider", async () => {
    const { providerFormat: _, ...old } = outputs({ content: "a\n", mode: "0644" });
    const d = await impl.diff(KIND, "id", old as never, { connection: { kind: "local" }, spec });
    expect(d).toMatchObject({ changes: true, replaces: [], diffs: ["providerFormat"] });
  });
});

describe("a change of connection", () => {
  const ssh = { kind: "ssh" as const, host: "guest1", port: 22, user: "root", hostKeySha256: `SHA256:${"A".repeat(43)}`, readyTimeoutMs: 20_000 };
  const observedOk = { content: "a\n", mode: "0644" };
  const withConn = (connection: object) => ({ ...outputs(observedOk), connection });

  it.each([
    ["a timeout", { readyTimeoutMs: 60_000 }],
    ["the user", { user: "admin" }],
    ["the private key", { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nnew" }],
    ["the host-key pin", { hostKeySha256: `SHA256:${"B".repeat(43)}` }],
    ["the host name's case", { host: "GUEST1" }],
  ])("is an update in place when only %s changes", async (_what, change) => {
    const d = await impl.diff(KIND, "id", withConn(ssh) as never, { connection: { ...ssh, ...change }, spec });
    expect(d.replaces).toEqual([]);
    expect(d.changes).toBe(true);
    expect(d.diffs).toEqual(["connection"]);
  });

  it.each([
    ["another host", { host: "guest2" }],
    ["another port", { port: 2222 }],
  ])("replaces a config file moved to %s (created there, removed here)", async (_what, change) => {
    const d = await impl.diff(KIND, "id", withConn(ssh) as never, { connection: { ...ssh, ...change }, spec });
    expect(d.replaces).toEqual(["connection"]);
  });

  // The name is not known yet (as at a preview), so check validates but never reaches for a host.
  const dataset = { name: UNKNOWN, properties: {}, acls: [] };
  it("refuses at preview to move a dataset to another host, saying what would happen to its data", async () => {
    const r = await impl.check("ZfsDataset", { connection: ssh, spec: dataset } as never, { connection: { ...ssh, host: "guest2" }, spec: dataset });
    const f = r.failures.find((x) => x.property === "connection");
    expect(f?.reason).toMatch(/ssh:\/\/guest1:22 -> ssh:\/\/guest2:22/);
    expect(f?.reason).toMatch(/created empty on the new host/);
    expect(f?.reason).toMatch(/allowDestroy: true/);
  });

  it("lets a dataset move when allowDestroy says the data may start over", async () => {
    const moved = { ...dataset, allowDestroy: true };
    const r = await impl.check("ZfsDataset", { connection: ssh, spec: moved } as never, { connection: { ...ssh, host: "guest2" }, spec: moved });
    expect(r.failures.filter((x) => x.property === "connection")).toEqual([]);
  });

  it("does not refuse a dataset whose key or timeout changed", async () => {
    const r = await impl.check("ZfsDataset", { connection: ssh, spec: dataset } as never, { connection: { ...ssh, readyTimeoutMs: 1, privateKey: "k" }, spec: dataset });
    expect(r.failures.filter((x) => x.property === "connection")).toEqual([]);
  });

  it("names the kinds an unknown state id could mean", async () => {
    await expect(impl.check("NoSuchKind", {} as never, { connection: { kind: "local" }, spec })).rejects.toThrow(/no host kind 'NoSuchKind'.*ZfsDataset/);
  });
});

describe("containsUnknown", () => {
  it("finds unknowns at any depth", () => {
    expect(impl.containsUnknown({ a: [{ b: UNKNOWN }] })).toBe(true);
    expect(impl.containsUnknown({ a: [{ b: "x" }] })).toBe(false);
  });
});
