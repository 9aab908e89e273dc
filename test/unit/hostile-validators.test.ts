/**
 * Property-based checks of the validators whose values select something on a host or open it
 * up, and of the messages: any-host sources in every component, sysctl keys that must stay
 * under /proc/sys, dataset names, transfer destinations, secrets that must never reach a
 * message, and control characters escaped in every formatted problem.
 */
import * as path from "path";
import fc from "fast-check";
import { escapeControl, formatProblem, Problem, ValidationError } from "../../core/errors";
import { anyHostReason, clientKind } from "../../core/clients";
import { connectionProblems } from "../../core/validate";
import { resolveNfsExport, validateNfsExport } from "../../components/nfs/nfsExportArgs";
import { resolveSmbShare, validateSmbShare } from "../../components/smb/smbShareArgs";
import { validateShareFirewall } from "../../components/firewall/shareFirewallArgs";
import { validateHostGuestShare } from "../../components/share/hostGuestShareArgs";
import { sysctlKeyProblem } from "../../components/network/sysctlProfileKind";
import { shownValue, sysctlPath } from "../../components/network/netHost";
import { validateDatasetName } from "../../components/storage/zfsNames";
import { protectedPathReason, SYSTEM_DIRS, validateTransferSpec } from "../../components/transfer/parallelTransferArgs";
import { validateSmbUser } from "../../components/smb/smbUserArgs";
import { guestMountSecretProblems } from "../../components/guest/guestMountArgs";
import { hostile, PIECES } from "./hostile-fields";

jest.setTimeout(120_000);

const RUNS = 1000;
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/** The four places a client address opens a share, each with its opt-in flag off. */
function anyHostRefusals(v: string): Record<string, boolean> {
  const refusedAt = (ps: Problem[], field: string) => ps.some((p) => p.field === field && /opens the share to every host/.test(p.message));
  return {
    NfsExport: refusedAt(validateNfsExport(resolveNfsExport("s", { path: "/srv/x", clients: [v] })), "clients[0].host"),
    SmbShare: refusedAt(validateSmbShare(resolveSmbShare("s", { path: "/srv/x", validUsers: ["alice"], hostsAllow: [v] })), "hostsAllow[0]"),
    ShareFirewall: refusedAt(validateShareFirewall({ allowedSources: [v] }), "allowedSources[0]"),
    HostGuestShare: refusedAt(validateHostGuestShare("s", { protocol: "nfs", hostPath: "/srv/x", guest: { address: v }, serverAddress: "192.168.122.1" }), "guest.address"),
  };
}

const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map((o) => o.join("."));
const v6 = fc.ipV6();

describe("any-host sources: one concept in NfsExport, SmbShare, ShareFirewall and HostGuestShare", () => {
  it.each(["*", "0/0", "ALL", "0.0.0.0", "::", "0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96", "::ffff:0:0/96", "0:0:0:0:0:0:0:0/0"])("'%s' is refused everywhere with the one message", (v) => {
    expect(anyHostReason(v)).toBe("it matches every address");
    const r = anyHostRefusals(v);
    expect([r.NfsExport, r.SmbShare, r.HostGuestShare]).toEqual([true, true, true]);
    // The firewall takes addresses only: `*`, `ALL` and `0/0` are refused there as not being one.
    // The firewall takes addresses only, in nft's form: `*`, `ALL`, `0/0` and IPv4-mapped forms are refused there as such.
    expect(validateShareFirewall({ allowedSources: [v] }).map((p) => p.field)).toEqual(["allowedSources[0]"]);
  });

  it(`every prefix-0 CIDR, IPv4 shorter than /8 and global IPv6 shorter than /16 is any-host (${RUNS} runs each family)`, () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 7 }), (a, p) => {
        expect(clientKind(`${a}/${p}`)).toBe("any");
        expect(anyHostRefusals(`${a}/${p}`).NfsExport).toBe(true);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(v6, (a) => {
        expect(clientKind(`${a}/0`)).toBe("any");
        expect(anyHostRefusals(`${a}/0`).SmbShare).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it(`a /8 or narrower IPv4 range, and a single address other than the unspecified one, is not any-host (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 8, max: 32 }), (a, p) => {
        if (a !== "0.0.0.0") expect(anyHostReason(`${a}/${p}`)).toBeUndefined();
        if (a !== "0.0.0.0") expect(anyHostReason(a)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it("with the opt-in flag set, the same sources are accepted", () => {
    expect(validateNfsExport(resolveNfsExport("s", { path: "/srv/x", clients: ["0.0.0.0/0"], allowAnyClient: true }))).toEqual([]);
    expect(validateShareFirewall({ allowedSources: ["0.0.0.0/0", "::/0"], allowAnySource: true })).toEqual([]);
    expect(validateHostGuestShare("s", { protocol: "nfs", hostPath: "/srv/x", guest: { address: "::/0" }, serverAddress: "192.168.122.1", nfs: { export: { allowAnyClient: true } } })).toEqual([]);
    expect(validateHostGuestShare("s", { protocol: "nfs", hostPath: "/srv/x", guest: { address: "::/0" }, serverAddress: "192.168.122.1", nfs: { export: { allowAnyClient: true } }, firewall: true }).map((p) => p.message)).toEqual([
      expect.stringMatching(/set firewall\.allowAnySource: true/),
    ]);
  });
});

describe("sysctl keys select files under /proc/sys only", () => {
  const level = fc.oneof(fc.constantFrom("net", "ipv4", "conf", "eth0/100", "/", "//", "///", "", "..", "etc", "a/b"), fc.string({ maxLength: 5 }));
  it(`a key that passes maps to a normalized path under /proc/sys (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 6 }), (levels) => {
        const key = levels.join(".");
        if (sysctlKeyProblem(key) !== undefined) {
          return;
        }
        const p = sysctlPath(key);
        expect(p.startsWith("/proc/sys/")).toBe(true);
        expect(path.posix.normalize(p)).toBe(p);
        expect(p.split("/").slice(3)).not.toContain("..");
      }),
      { numRuns: RUNS },
    );
  });
  it("a value read from the host reaches a message only when it looks like a sysctl value", () => {
    expect(shownValue("4096 131072 6291456")).toBe("4096 131072 6291456");
    expect(shownValue("reno cubic bbr")).toBe("reno cubic bbr");
    expect(shownValue("root:x:0:0:root:/root:/bin/bash\n")).toBe("(a value kvmshare does not show)");
    expect(shownValue("password=hunter2")).toBe("(a value kvmshare does not show)");
    expect(shownValue(undefined)).toBe("(absent)");
  });
  it("the issue's key is refused, and sysctlPath itself refuses it", () => {
    expect(sysctlKeyProblem("net.//.//.//.etc.hostname")).toMatch(/only '\/'/);
    expect(() => sysctlPath("net.//.//.//.etc.hostname")).toThrow(/does not name a file under \/proc\/sys/);
  });
});

describe("MTU", () => {
  it("is refused in preflight above the device's own max_mtu, read from 'ip -d -j link'", async () => {
    const { kind } = await import("../../components/network/linkMtuKind");
    const ran: string[][] = [];
    const host = { label: "h", run: async (argv: string[]) => (ran.push(argv), { stdout: '[{"mtu":1500,"min_mtu":68,"max_mtu":9216}]', stderr: "", code: 0 }) };
    const spec = { device: "eth0", mtu: 9600, stateDir: "/var/lib/kvmshare/network", restoreOnRemove: true };
    expect(kind.validate(spec)).toEqual([]);
    const problems = await kind.preflight!(host as never, spec);
    expect(problems.map(formatProblem)).toEqual(["mtu: is more than eth0 on h allows (max_mtu 9216); use at most 9216 (got 9600)"]);
    expect(ran).toEqual([["ip", "-j", "-d", "link", "show", "dev", "eth0"]]);
    expect(kind.validate({ ...spec, mtu: 65536 }).map(formatProblem)[0]).toMatch(/^mtu: must be an integer from 68 to 65535/);
    expect(kind.validate({ ...spec, device: "lo", mtu: 65536 })).toEqual([]);
  });
});

describe("dataset names", () => {
  it(`a name that passes has no empty, '.' or '..' component and no control character (${RUNS} runs)`, () => {
    const part = fc.oneof(fc.constantFrom(".", "..", "", "tank", "a.b", "x:y", "-", "@snap", "#b"), hostile);
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (parts) => {
        const name = parts.join("/");
        if (validateDatasetName(name).length) return;
        expect(name.split("/").every((p) => p !== "" && p !== "." && p !== "..")).toBe(true);
        expect(CONTROL.test(name)).toBe(false);
      }),
      { numRuns: RUNS },
    );
    expect(validateDatasetName("tank/../etc")[0].message).toMatch(/'\.' or '\.\.' component/);
    expect(validateDatasetName("tank/./x")).toHaveLength(1);
  });
});

describe("transfer destinations", () => {
  const sys = fc.constantFrom("/", ...SYSTEM_DIRS, "/lib64", "/libx32");
  it(`'/', a system directory or an entry directly inside one is refused with allowDestroy (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(sys, fc.option(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), { nil: undefined }), (dir, child) => {
        const destination = child === undefined || child === "." || child === ".." || dir === "/" ? dir : path.posix.join(dir, child);
        const problems = validateTransferSpec({ source: "/src", destination, allowDestroy: true });
        expect(protectedPathReason(destination)).toBeDefined();
        expect(problems.some((p) => p.field === "destination")).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
  it("a deeper path is fine, and '/' is refused even without allowDestroy", () => {
    expect(validateTransferSpec({ source: "/src", destination: "/srv/images/disk.img", allowDestroy: true })).toEqual([]);
    expect(validateTransferSpec({ source: "/src", destination: "/", allowDestroy: false }).map((p) => p.field)).toEqual(["destination"]);
    expect(validateTransferSpec({ source: "/src", destination: "/usr", allowDestroy: false }).map((p) => p.field)).toEqual(["destination"]);
  });
});

describe("secrets never reach a message", () => {
  const MARK = "Zq9MARKERq9Z";
  const secret = fc.tuple(hostile, hostile).map(([a, b]) => `${a}${MARK}${b}`);
  const allMessages = (ps: Problem[]) => [...ps.map(formatProblem), ps.length ? new ValidationError("X", ps).message : ""].join("\n");

  it(`SmbUser and GuestMount passwords, SSH keys and passphrases (${RUNS} runs)`, () => {
    let refused = 0;
    fc.assert(
      fc.property(secret, (s) => {
        const ps = [
          ...validateSmbUser({ name: "alice", configPath: "/etc/samba/smb.conf" }, { password: s }),
          ...guestMountSecretProblems({ smb: { server: "h", share: "d", username: "u" } }, { password: s }),
          ...connectionProblems({ kind: "ssh", host: "10.0.0.2", privateKey: s, passphrase: s, hostKeySha256: `SHA256:${"A".repeat(43)}` }),
          ...connectionProblems({ kind: "ssh", host: "10.0.0.2", privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${s}\n-----END OPENSSH PRIVATE KEY-----\n`, insecureIgnoreHostKey: true }),
        ];
        if (ps.length) refused++;
        expect(allMessages(ps)).not.toContain(MARK);
        for (const p of ps) expect(p.value).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    // Every generated key is refused (the marker is not PEM), so the property saw messages.
    expect(refused).toBe(RUNS);
  });

  it("names the field and the problem: empty, line break, NUL, too long", () => {
    const m = (password: string) => validateSmbUser({ name: "alice", configPath: "/etc/samba/smb.conf" }, { password }).map(formatProblem);
    expect(m("")).toEqual(["password: is empty; set a password (as a pulumi.secret)"]);
    expect(m("a\nb")[0]).toMatch(/^password: contains a line break/);
    expect(m("a\0b")[0]).toMatch(/^password: contains a NUL character/);
    expect(m("x".repeat(255))[0]).toMatch(/^password: is longer than 254 bytes \(smbpasswd/);
    expect(m("x".repeat(254))).toEqual([]);
    const g = (password: string) => guestMountSecretProblems({ smb: { server: "h", share: "d", username: "u" } }, { password }).map(formatProblem);
    expect(g("pw\ndomain=EVIL\nusername=root")[0]).toMatch(/^password: contains a line break/);
    expect(g(",".repeat(257))[0]).toMatch(/^password: is longer than 512 bytes once its commas are doubled/);
    expect(g(",".repeat(256))).toEqual([]);
    expect(guestMountSecretProblems({}, { password: "x" }).map(formatProblem)).toEqual(["password: only applies to smb mounts; remove it"]);
  });
});

describe("messages escape control characters", () => {
  it(`a formatted problem is one line without raw control characters, whatever the field, value or message (${RUNS} runs)`, () => {
    const anyValue = fc.oneof(hostile, fc.constantFrom(...PIECES), fc.jsonValue(), fc.constant(NaN), fc.constant(undefined));
    fc.assert(
      fc.property(hostile, anyValue, hostile, (field, value, message) => {
        const text = formatProblem({ field, value, message });
        expect(CONTROL.test(text)).toBe(false);
        expect(new ValidationError(field, [{ field, value, message }]).message.split("\n")).toHaveLength(2);
      }),
      { numRuns: RUNS },
    );
  });
  it("shows what the escapes stand for", () => {
    expect(escapeControl("a\nb\r\0\t\u2028\x1b")).toBe("a\\nb\\r\\0\\t\\u2028\\u001b");
    expect(formatProblem({ field: "f", value: "x\ny", message: "m" })).toBe("f: m (got 'x\\ny')");
    expect(formatProblem({ field: "chunkSize", value: NaN, message: "m" })).toBe("chunkSize: m (got NaN)");
  });
});
