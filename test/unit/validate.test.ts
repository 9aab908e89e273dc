import { ValidationError, formatProblem, redact } from "../../core/errors";
import { Checker, isCidr, isHostname, parseMode, parseSize, UNKNOWN } from "../../core/validate";

describe("parseSize", () => {
  it.each([
    ["10G", 10 * 1024 ** 3],
    ["512M", 512 * 1024 ** 2],
    ["1.5T", 1.5 * 1024 ** 4],
    ["64KiB", 64 * 1024],
    ["100", 100],
    ["2gb", 2 * 1024 ** 3],
    [4096, 4096],
  ])("parses %p", (v, bytes) => expect(parseSize(v as string)).toBe(bytes));

  it.each(["", "G", "10X", "-1G", "1,5G", "ten"])("rejects %p", (v) => expect(parseSize(v)).toBeUndefined());
});

describe("parseMode", () => {
  it.each([["0600", 0o600], ["600", 0o600], ["0o644", 0o644], ["2775", 0o2775]])("parses %p", (v, m) => expect(parseMode(v)).toBe(m));
  it.each(["0999", "rw-r--r--", "77", "012345"])("rejects %p", (v) => expect(parseMode(v)).toBeUndefined());
});

describe("isCidr / isHostname", () => {
  it.each(["10.0.0.0/8", "192.168.122.0/24", "fd00::/64", "::1/128", "1.2.3.4/32"])("accepts CIDR %p", (v) => expect(isCidr(v)).toBe(true));
  it.each(["10.0.0.0/33", "10.0.0.0", "10.0.0/8", "fd00::/129", "x/8", "1.2.3.4/8/1", "1.2.3.4/"])("rejects CIDR %p", (v) =>
    expect(isCidr(v)).toBe(false),
  );
  it.each(["guest1", "guest-1.lab.example", "a"])("accepts host name %p", (v) => expect(isHostname(v)).toBe(true));
  it.each(["-bad", "bad-", "has space", "semi;colon", ""])("rejects host name %p", (v) => expect(isHostname(v)).toBe(false));
});

describe("Checker", () => {
  it("collects every problem with field, value and fix", () => {
    const c = new Checker("NfsExport 'data'")
      .name("name", "bad name")
      .absPath("path", "srv/data")
      .oneOf("sec", "krb6", ["sys", "krb5", "krb5i", "krb5p"])
      .port("port", 70000)
      .size("quota", "ten gigs")
      .mode("mode", "0999")
      .hostOrCidr("clients[1]", "10.0.0.0/40");
    expect(c.problems.map((p) => p.field)).toEqual(["name", "path", "sec", "port", "quota", "mode", "clients[1]"]);
    expect(() => c.throwIfAny()).toThrow(ValidationError);
    try {
      c.throwIfAny();
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toMatch(/^NfsExport 'data': 7 invalid inputs:/);
      expect(msg).toContain("sec: must be one of sys, krb5, krb5i, krb5p (got 'krb6')");
      expect(msg).toContain("port: must be an integer from 1 to 65535 (got 70000)");
      expect(msg).toContain("path: must be an absolute path (start with '/') (got 'srv/data')");
    }
  });

  it("suggests the normalized path", () => {
    const c = new Checker("x").absPath("path", "/srv//data/../x");
    expect(c.problems[0].message).toMatch(/did you mean '\/srv\/x'/);
  });

  it("refuses newlines in paths (they would break config files)", () => {
    expect(new Checker("x").absPath("path", "/srv/a\nb").problems).toHaveLength(1);
  });

  it("skips values that are unknown at preview time", () => {
    const c = new Checker("x").absPath("path", UNKNOWN).port("port", UNKNOWN as unknown as number).name("name", UNKNOWN);
    expect(c.problems).toEqual([]);
  });

  it("does not throw when everything is valid", () => {
    const c = new Checker("x").name("name", "data").absPath("path", "/srv/data").cidr("c", "10.0.0.0/24").size("q", "10G", 1);
    expect(() => c.throwIfAny()).not.toThrow();
  });

  it("enforces a minimum size", () => {
    expect(new Checker("x").size("q", "1K", 65536).problems[0].message).toMatch(/at least 65536 bytes/);
  });

  it("required() flags missing values", () => {
    expect(new Checker("x").required("name", undefined).required("p", "").problems).toHaveLength(2);
  });

  it("cidr() refuses host names where only addresses are allowed", () => {
    expect(new Checker("x").cidr("src", "guest1").problems).toHaveLength(1);
    expect(new Checker("x").cidr("src", "fd00::1").problems).toHaveLength(0);
  });
});

describe("errors", () => {
  it("formats a problem with a shortened value", () => {
    expect(formatProblem({ field: "f", value: "x".repeat(200), message: "bad" })).toMatch(/^f: bad \(got 'x+\.\.\.\)$/);
  });

  it("redacts every occurrence of every secret", () => {
    expect(redact("pw=hunter2 again hunter2 and s3cr3t", ["hunter2", "s3cr3t", undefined, ""])).toBe(
      "pw=[secret] again [secret] and [secret]",
    );
  });
});
