import { DATA_LOSS_FIELD, declaredSide, DRIFT_LIMITS, driftSummary, hostSide, hunks, maskSecrets, valueAt } from "../../core/drift";

const file = (n: number, edit: Record<number, string> = {}) =>
  Array.from({ length: n }, (_, i) => edit[i] ?? `line ${i + 1}`).join("\n") + "\n";

describe("drift texts", () => {
  it("a file: one hunk per change with two lines of context, the same header on both sides", () => {
    const declared = { content: file(30) };
    const observed = { content: file(30, { 4: "line 5 edited", 24: "line 25 edited" }) };
    const host = hostSide(declared, observed, ["content"], []);
    expect(host.content).toBe(
      ["@@ -3,5 +3,5 @@", "line 3", "line 4", "line 5 edited", "line 6", "line 7", "@@ -23,5 +23,5 @@", "line 23", "line 24", "line 25 edited", "line 26", "line 27", ""].join("\n"),
    );
    const decl = declaredSide(host, declared, []);
    expect(decl.content).toBe(["@@ -3,5 +3,5 @@", "line 3", "line 4", "line 5", "line 6", "line 7", "@@ -23,5 +23,5 @@", "line 23", "line 24", "line 25", "line 26", "line 27", ""].join("\n"));
  });

  it("added and removed lines shift the declared side's range", () => {
    const host = hostSide({ content: "a\nb\nc\n" }, { content: "a\nx\ny\nb\nc\n" }, ["content"], []);
    expect(host.content).toBe("@@ -1,5 +1,3 @@\na\nx\ny\nb\nc\n");
    expect(declaredSide(host, { content: "a\nb\nc\n" }, []).content).toBe("@@ -1,5 +1,3 @@\na\nb\nc\n");
  });

  it("is bounded: a rewritten 500-line file shows at most DRIFT_LIMITS.lines lines and says how many more", () => {
    const host = hostSide({ content: file(500) }, { content: file(500, Object.fromEntries(Array.from({ length: 500 }, (_, i) => [i, `other ${i}`]))) }, ["content"], []);
    const shown = host.content.split("\n").filter((l) => l && !l.startsWith("@@") && !l.startsWith("..."));
    expect(shown).toHaveLength(DRIFT_LIMITS.lines);
    expect(host.content).toMatch(/\.\.\. \(\d+ more lines of this diff not shown\)\n$/);
    expect(hostSide({ content: "x\n" }, { content: "y".repeat(5000) + "\n" }, ["content"], []).content.length).toBeLessThan(300);
  });

  it("masks secrets and private keys on both sides, in files and in values", () => {
    const secret = "s3cr3t-Pa55";
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAB3Nza\nC1yc2E\n-----END OPENSSH PRIVATE KEY-----";
    const declared = { content: `user = a\nsecret = ${secret}\n${key}\n`, token: secret };
    const observed = { content: `user = b\nsecret = ${secret}\n${key}\n`, token: `x${secret}` };
    const host = hostSide(declared, observed, ["content", "token"], [secret]);
    const decl = declaredSide(host, declared, [secret]);
    const all = JSON.stringify([host, decl]);
    expect(all).not.toContain(secret);
    expect(all).not.toContain("AAAAB3Nza");
    expect(host.content).toContain("secret = [secret]");
    expect(host.token).toBe("x[secret]");
    expect(decl.token).toBe("[secret]");
    expect(maskSecrets(`k=${key}`, [])).toBe("k=[key material]");
  });

  it("a property as its value; an absent resource as onHost absent -> present; the data-loss note the same on both sides", () => {
    const declared = { properties: { atime: "off", "com.example:owner": "a" } };
    const observed = { properties: { atime: "on", "com.example:owner": "b" } };
    const host = hostSide(declared, observed, ["properties.atime", "properties.com.example:owner"], []);
    expect(host).toEqual({ "properties.atime": "on", "properties.com.example:owner": "b" });
    expect(declaredSide(host, declared, [])).toEqual({ "properties.atime": "off", "properties.com.example:owner": "a" });
    expect(hostSide(declared, undefined, ["(absent on host)"], [])).toEqual({ onHost: "absent" });
    expect(declaredSide({ onHost: "absent" }, declared, [])).toEqual({ onHost: "present" });
    expect(declaredSide({ [DATA_LOSS_FIELD]: "no" }, declared, [])).toEqual({ [DATA_LOSS_FIELD]: "no" });
    expect(driftSummary({ onHost: "absent" })).toBe("absent on the host");
    expect(driftSummary(host)).toBe("properties.atime is on, properties.com.example:owner is b");
  });

  it("valueAt reads dotted paths and keys that contain dots; hunks of equal texts are none", () => {
    expect(valueAt({ a: { "b.c": 1 } }, "a.b.c")).toBe(1);
    expect(valueAt({ a: { b: 2 } }, "a.x")).toBeUndefined();
    expect(hunks(["a", "b"], ["a", "b"])).toEqual([]);
  });
});
