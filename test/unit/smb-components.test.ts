/**
 * Samba: hardened defaults, validation (field + value + fix), rendered smb.conf/share/index
 * (snapshots), the NT hash used for password drift, and the components under Pulumi mocks
 * (the password only ever in `secrets`).
 */
import * as pulumi from "@pulumi/pulumi";
import { md4, ntHash, passwordMatches } from "../../components/smb/ntHash";
import { INDEX_WRITE, TESTPARM_CHECK } from "../../components/smb/smbChecks";
import { renderSambaServer, renderSmbIndex, renderSmbShare, serverSettings } from "../../components/smb/smbRender";
import { resolveSambaServer, validateSambaServer } from "../../components/smb/sambaServerArgs";
import { resolveSmbShare, validateSmbShare } from "../../components/smb/smbShareArgs";
import { validateSmbUser } from "../../components/smb/smbUserArgs";
import { formatProblem } from "../../core/errors";
import { mockPulumi } from "./mocks";

const share = (over: Record<string, unknown> = {}) => resolveSmbShare("data", { path: "/tank/data", validUsers: ["alice"], hostsAllow: ["192.168.122.0/24"], ...over });
const shareMessages = (over: Record<string, unknown> = {}) => validateSmbShare(share(over)).map(formatProblem);
const serverMessages = (over: Record<string, unknown> = {}) => validateSambaServer(resolveSambaServer("smb", over)).map(formatProblem);

describe("server hardening defaults", () => {
  const settings = Object.fromEntries(serverSettings(resolveSambaServer("smb", {})).map((s) => [s.key, s.value]));
  it.each([
    ["server min protocol", "SMB3_00"],
    ["server signing", "mandatory"],
    ["server smb encrypt", "required"],
    ["ntlm auth", "ntlmv2-only"],
    ["restrict anonymous", "2"],
    ["map to guest", "never"],
    ["disable netbios", "yes"],
    ["load printers", "no"],
    ["passdb backend", "tdbsam"],
  ])("sets %s = %s", (key, value) => {
    expect(settings[key]).toBe(value);
  });

  it("uses Debian's paths and reloads smbd through systemd", () => {
    expect(resolveSambaServer("smb", {})).toMatchObject({ configPath: "/etc/samba/smb.conf", sharesDir: "/etc/samba/kvmshare.d", sharesIndexPath: "/etc/samba/kvmshare-shares.conf", reloadCommand: ["systemctl", "reload", "smbd"], ports: [445] });
  });

  it("a share defaults to read-write, 0740/0750 masks, no guests, encryption required", () => {
    const text = renderSmbShare(share());
    expect(text).toContain("\tread only = no\n\tcreate mask = 0740\n\tdirectory mask = 0750\n");
    expect(text).toContain("\tguest ok = no\n\tsmb encrypt = required\n");
    expect(text).toContain("\thosts allow = 192.168.122.0/24\n\thosts deny = ALL\n");
  });
});

describe("validation", () => {
  it("accepts a plain share and server", () => {
    expect(shareMessages()).toEqual([]);
    expect(serverMessages()).toEqual([]);
  });

  describe.each([
    [{ hostsAllow: [] }, /hostsAllow: must list the clients that may connect/],
    [{ hostsAllow: ["*"] }, /hostsAllow\[0\]: opens the share to every host .* allowAnyClient: true/],
    [{ hostsAllow: ["0.0.0.0/0"] }, /hostsAllow\[0\]: opens the share to every host .* allowAnyClient: true/],
    [{ hostsAllow: ["::/0"] }, /hostsAllow\[0\]: opens the share to every host .* allowAnyClient: true/],
    [{ hostsAllow: ["ALL"] }, /hostsAllow\[0\]: opens the share to every host .* allowAnyClient: true/],
    [{ hostsAllow: ["LOCAL"] }, /hostsAllow\[0\]: is a keyword of Samba's 'hosts allow'/],
    [{ hostsAllow: ["10.0.0.0/99"] }, /hostsAllow\[0\]: must be an IP address, a CIDR/],
    [{ validUsers: [] }, /validUsers: must name at least one user/],
    [{ validUsers: ["bad user"] }, /validUsers\[0\]: must be a Unix user name/],
    [{ createMask: "0666" }, /createMask: lets every local user write .* \(got '0666'\)/],
    [{ directoryMask: "999" }, /directoryMask: must be an octal mode/],
    [{ shareName: "global" }, /shareName: must be .* not global, homes or printers/],
    [{ path: "relative" }, /path: must be an absolute path/],
    [{ path: "/a%b" }, /path: must not contain quotes, '%' or backslashes/],
    [{ extraParameters: { "guest ok": "yes" } }, /extraParameters.guest ok: is part of kvmshare's hardening and cannot be overridden/],
    [{ extraParameters: { "smb encrypt": "off" } }, /extraParameters.smb encrypt: is part of kvmshare's hardening/],
    [{ extraParameters: { "valid users": "bob" } }, /extraParameters.valid users: is set by the 'validUsers' field/],
    [{ extraParameters: { oplocks: "no\n[evil]" } }, /extraParameters.oplocks: must be a one-line, non-empty string/],
    [{ sharesDir: "/etc/samba/my shares" }, /sharesDir: must not contain spaces/],
  ])("refuses the share %j", (over, re) => {
    it("naming the field, the value and the fix", () => {
      expect(shareMessages(over).join("\n")).toMatch(re);
    });
  });

  describe.each([
    [{ minProtocol: "NT1" }, /minProtocol: must be one of SMB3_00, SMB3_02, SMB3_11 \(got 'NT1'\)/],
    [{ ports: [] }, /ports: must list at least one TCP port/],
    [{ ports: [70000] }, /ports\[0\]: must be an integer from 1 to 65535/],
    [{ workgroup: "THIS-NAME-IS-TOO-LONG" }, /workgroup: must be 1-15 letters/],
    [{ extraParameters: { "server signing": "auto" } }, /extraParameters.server signing: is part of kvmshare's hardening/],
    [{ extraParameters: { "ntlm auth": "yes" } }, /extraParameters.ntlm auth: is part of kvmshare's hardening/],
    [{ extraParameters: { "min protocol": "NT1" } }, /extraParameters.min protocol: is set by the 'minProtocol' field/],
    [{ passdbPath: "relative.tdb" }, /passdbPath: must be an absolute path/],
    [{ reloadCommand: [""] }, /reloadCommand: must be a non-empty argv array/],
  ])("refuses the server %j", (over, re) => {
    it("naming the field, the value and the fix", () => {
      expect(serverMessages(over).join("\n")).toMatch(re);
    });
  });

  it("refuses a bad user name", () => {
    expect(validateSmbUser({ name: "root;id", configPath: "/etc/samba/smb.conf" }).map(formatProblem)).toEqual([
      "name: must be a Unix user name (letters, digits, '_.-', at most 32) (got 'root;id')",
    ]);
  });
});

describe("rendered files", () => {
  it("a sandboxed server config", () => {
    expect(
      renderSambaServer(resolveSambaServer("smb", { configPath: "/srv/smb/smb.conf", sharesDir: "/srv/smb/shares.d", sharesIndexPath: "/srv/smb/shares.conf", ports: [4450], interfaces: ["127.0.0.1"], hostsAllow: ["127.0.0.1", "192.168.122.0/24"], passdbPath: "/srv/smb/passdb.tdb", stateDir: "/srv/smb/state", logFile: "/srv/smb/log.smbd", minProtocol: "SMB3_11", extraParameters: { "socket options": "TCP_NODELAY" } })),
    ).toMatchSnapshot();
  });
  it("a share with users, groups and extra parameters", () => {
    expect(renderSmbShare(share({ validUsers: ["alice", "bob"], validGroups: ["vmadmins"], readOnly: true, browseable: false, extraParameters: { "veto files": "/.snapshot/" } }))).toMatchSnapshot();
  });
  it("the shares index, sorted", () => {
    expect(renderSmbIndex("/etc/samba/kvmshare.d", ["/etc/samba/kvmshare.d/b.conf", "/etc/samba/kvmshare.d/a.conf"])).toMatchSnapshot();
  });
});

describe("NT hash (password drift without storing a hash)", () => {
  it("is MD4 (RFC 1320 test vectors)", () => {
    expect(md4(Buffer.from("")).toString("hex")).toBe("31d6cfe0d16ae931b73c59d7e0c089c0");
    expect(md4(Buffer.from("abc")).toString("hex")).toBe("a448017aaf21d8525fc10ae87aa6729d");
    expect(md4(Buffer.from("message digest")).toString("hex")).toBe("d9130a8164549fe818874806e1c7014b");
    expect(md4(Buffer.from("1234567890".repeat(8))).toString("hex")).toBe("e33b4ddc9c38f2199c3e7b164fcc0536");
  });
  it("matches what Samba stores for a password (pdbedit -w)", () => {
    // `printf 'Pw-1234567\nPw-1234567\n' | smbpasswd -s -a games; pdbedit -L -w` printed this hash.
    expect(ntHash("Pw-1234567")).toBe("C6273BCD5E170C6900F3B94CBEC41DB9");
    expect(passwordMatches("Pw-1234567", "C6273BCD5E170C6900F3B94CBEC41DB9")).toBe(true);
    expect(passwordMatches("Pw-1234568", "C6273BCD5E170C6900F3B94CBEC41DB9")).toBe(false);
    expect(passwordMatches("Pw-1234567", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")).toBe(false);
  });
});

describe("scripts", () => {
  it("are constants that take values as positional parameters", () => {
    expect(TESTPARM_CHECK).not.toMatch(/\$\{/);
    expect(INDEX_WRITE).toContain('dir=$1 index=$2 expected=$3');
    expect(INDEX_WRITE).toContain("flock 9");
  });
});

describe("components under mocks", () => {
  const { registered: created } = mockPulumi();

  it("a user's password goes only into the host resource's secrets, as a secret", async () => {
    const { SambaServer, SmbUser, SmbShare } = await import("../../components/smb");
    const server = new SambaServer("smb", { ports: [4450], hostSetup: false }); // the packages step is tested in host-setup.test.ts
    const alice = new SmbUser("alice", { server, password: pulumi.secret("very-secret-pw") });
    const s = new SmbShare("data", { server, path: "/tank/data", validUsers: [alice], hostsAllow: ["192.168.122.10", "guest.lab"] });
    expect(await new Promise((r) => s.allowedSources.apply(r))).toEqual(["192.168.122.10"]);
    expect(await new Promise((r) => s.allowedHostNames.apply(r))).toEqual(["guest.lab"]);
    await new Promise((r) => setTimeout(r, 50));
    const user = created.find((c) => c.name === "alice-user");
    expect(user?.inputs.spec).toEqual({ name: "alice", configPath: "/etc/samba/smb.conf" });
    expect(JSON.stringify(user?.inputs.spec)).not.toContain("very-secret-pw");
    // The engine receives it wrapped as a secret.
    expect(JSON.stringify(user?.inputs.secrets)).toContain("very-secret-pw");
    expect(JSON.stringify(user?.inputs.secrets)).toContain("1b47061264138c4ac30d75fd1eb44270");
    const shareRes = created.find((c) => c.name === "data-share");
    expect(shareRes?.inputs.spec).toMatchObject({ name: "data", validUsers: ["alice"], sharesDir: "/etc/samba/kvmshare.d", reloadCommand: ["systemctl", "reload", "smbd"] });
    const everything = JSON.stringify(created.map((c) => ({ ...c.inputs, secrets: undefined })));
    expect(everything).not.toContain("very-secret-pw");
  });

  it("refuses a user without a password and a share with problems, before any host resource", async () => {
    const { SmbUser, SmbShare } = await import("../../components/smb");
    const before = created.length;
    expect(() => new SmbUser("bob", { password: "" })).toThrow(/SmbUser bob: 1 invalid input:\n  - password: is required/);
    expect(() => new SmbShare("s", { path: "/x", hostsAllow: [], createMask: "0777" })).toThrow(/validUsers: must name[\s\S]*createMask: lets every local user write[\s\S]*hostsAllow: must list/);
    await new Promise((r) => setTimeout(r, 20));
    expect(created.slice(before).filter((c) => c.type.startsWith("pulumi-nodejs:dynamic"))).toHaveLength(0);
  });
});
