/** The drift logic of the one dynamic provider, exercised on the ManagedFile kind (pure parts). */
import * as impl from "../../core/providerImpl";
import { UNKNOWN } from "../../core/validate";

const KIND = require.resolve("../../components/files/managedFileKind");
const spec = { path: "/etc/kvmshare/x.conf", content: "a\n", mode: "0644" };
const outputs = (observed: unknown, s: object = spec) => ({
  connection: { kind: "local" as const },
  spec: s,
  observed,
  kind: "ManagedFile",
  kindVersion: 1,
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
      connection: { kind: "ssh", host: "guest1", hostKeySha256: "SHA256:x" },
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

describe("containsUnknown", () => {
  it("finds unknowns at any depth", () => {
    expect(impl.containsUnknown({ a: [{ b: UNKNOWN }] })).toBe(true);
    expect(impl.containsUnknown({ a: [{ b: "x" }] })).toBe(false);
  });
});
