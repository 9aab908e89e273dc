/**
 * GuestMount: defaults, option validation, rendered units/fstab (snapshots), and the component's
 * child resource under Pulumi mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { planGuestMount, renderOptions, spliceFstab, extractFstabBlock, fstabEscape } from "../../components/guest/mountPlan";
import { GuestMountSpec, validateGuestMount } from "../../components/guest/guestMountArgs";

import { formatProblem } from "../../core/errors";
import { UNKNOWN } from "../../core/validate";
import { mockPulumi } from "./mocks";

const nfs = (over: Partial<GuestMountSpec["nfs"]> = {}, rest: Partial<GuestMountSpec> = {}): GuestMountSpec => ({
  where: "/mnt/share",
  nfs: { server: "192.168.122.1", exportPath: "/tank/share", ...over },
  ...rest,
});
const smb = (rest: Partial<GuestMountSpec> = {}): GuestMountSpec => ({
  where: "/mnt/smb",
  smb: { server: "host.local", share: "data", username: "alice" },
  ...rest,
});
const messages = (s: GuestMountSpec) => validateGuestMount(s).map(formatProblem);

describe("NFS options", () => {
  it("uses NFSv4.2, hard, timeo=600, retrans=2, sec=sys by default", () => {
    expect(renderOptions(nfs())).toEqual(["vers=4.2", "hard", "timeo=600", "retrans=2", "sec=sys"]);
  });

  it("renders nconnect, rsize/wsize, port and extra options in a stable order", () => {
    expect(
      renderOptions(nfs({ nconnect: 4, rsizeBytes: 1048576, wsizeBytes: 1048576, port: 2049 }, { options: { noatime: true, actimeo: 5 } })),
    ).toEqual(["vers=4.2", "nconnect=4", "rsize=1048576", "wsize=1048576", "hard", "timeo=600", "retrans=2", "sec=sys", "port=2049", "noatime", "actimeo=5"]);
  });

  it("explains that timeo is in tenths of a second", () => {
    expect(messages(nfs({ timeoDeciseconds: 6 }))).toEqual([
      "nfs.timeoDeciseconds: must be an integer from 10 to 6000 (timeo is in tenths of a second: 600 = 60 s) (got 6)",
    ]);
  });

  it("refuses timeo in options and says where it goes", () => {
    expect(messages(nfs({}, { options: { timeo: 600 } })).join("\n")).toMatch(/options.timeo: is set through nfs.timeoDeciseconds \(tenths of a second: 600 = 60 s\)/);
  });

  describe.each([
    [{ version: "4.3" }, /nfs.version: must be one of 3, 4, 4.0, 4.1, 4.2 \(got '4.3'\)/],
    [{ nconnect: 17 }, /nfs.nconnect: must be an integer from 1 to 16/],
    [{ rsizeBytes: 1000000 }, /nfs.rsizeBytes: must be a multiple of 1024/],
    [{ wsizeBytes: 2097152 }, /nfs.wsizeBytes: must be an integer from 4096 to 1048576/],
    [{ sec: "krb5x" }, /nfs.sec: must be one or more of sys, krb5, krb5i, krb5p/],
    [{ server: "bad host!" }, /nfs.server: must be an IP address or a host name/],
    [{ exportPath: "tank/share" }, /nfs.exportPath: must be an absolute path/],
    [{ retrans: -1 }, /nfs.retrans: must be an integer from 0 to 10/],
  ] as [Partial<GuestMountSpec["nfs"]>, RegExp][])("rejects %j", (over, re) => {
    it("with a message naming the field and the value", () => {
      expect(messages(nfs(over)).join("\n")).toMatch(re);
    });
  });

  it("accepts krb5i:krb5p (with the guest's Kerberos realm) and IPv6 servers (bracketed in What=)", () => {
    const s = nfs({ sec: "krb5i:krb5p", server: "fd00::1", kerberosRealm: "EXAMPLE.ORG" });
    expect(messages(s)).toEqual([]);
    expect(planGuestMount(s).what).toBe("[fd00::1]:/tank/share");
  });

  it("refuses a soft read-write mount (silent data loss) but allows a soft read-only one", () => {
    expect(messages(nfs({ hard: false })).join("\n")).toMatch(/nfs.hard: a soft read-write NFS mount can silently lose writes/);
    expect(messages(nfs({ hard: false }, { readOnly: true }))).toEqual([]);
    expect(renderOptions(nfs({ hard: false }, { readOnly: true }))).toEqual(["vers=4.2", "soft", "timeo=600", "retrans=2", "sec=sys", "ro"]);
  });

  it("does not repeat ro when readOnly and options.ro are both set", () => {
    expect(renderOptions(nfs({}, { readOnly: true, options: { ro: true, noatime: true } }))).toEqual(["vers=4.2", "hard", "timeo=600", "retrans=2", "sec=sys", "ro", "noatime"]);
  });

  it("refuses unknown options and lists the known ones", () => {
    const m = messages(nfs({}, { options: { nconect: 4, noatime: true } })).join("\n");
    expect(m).toMatch(/options.nconect: is not a known nfs mount option; known: .*acdirmax.*noatime/);
    expect(m).not.toMatch(/options.noatime/);
  });

  it("refuses x-systemd.* and _netdev (kvmshare sets them)", () => {
    expect(messages(nfs({}, { options: { "x-systemd.automount": true, _netdev: true } }))).toHaveLength(2);
  });

  it("lists every problem at once", () => {
    expect(messages(nfs({ version: "5" as never, nconnect: 0, timeoDeciseconds: 0 }, { where: "rel" }))).toHaveLength(4);
  });
});

describe("SMB options", () => {
  it("uses SMB 3.1.1 with seal and a credentials file by default", () => {
    const p = planGuestMount(smb(), { password: "s3cret" });
    expect(p.options).toEqual(["vers=3.1.1", "seal", "credentials=/etc/kvmshare/mnt-smb.cred"]);
    expect(p.what).toBe("//host.local/data");
    expect(p.credentials?.content).toBe("username=alice\npassword=s3cret\n");
    expect(p.units["mnt-smb.mount"].content).not.toContain("s3cret");
  });

  it("writes the domain into the credentials file when set", () => {
    const p = planGuestMount(smb({ smb: { server: "h", share: "d", username: "bob", domain: "CORP" } }), { password: "x" });
    expect(p.credentials?.content).toBe("username=bob\npassword=x\ndomain=CORP\n");
  });

  it("refuses passwords and user names in options, pointing at the secret", () => {
    const m = messages(smb({ options: { password: "oops", username: "alice" } })).join("\n");
    expect(m).toMatch(/options.password: is set through secrets.password \(written to a 0600 credentials file, never in the options\)/);
    expect(m).toMatch(/options.username: is set through smb.username/);
  });

  it("refuses SMB1/SMB2 dialects", () => {
    expect(messages(smb({ smb: { server: "h", share: "d", username: "u", version: "2.1" as never } })).join()).toMatch(
      /smb.version: must be an SMB3 dialect: 3.1.1, 3.02, 3.0 \(SMB1\/SMB2 are refused: no encryption\)/,
    );
  });

  it("refuses a user name with a newline (it would inject a credentials line)", () => {
    expect(messages(smb({ smb: { server: "h", share: "d", username: "u\npassword=x" } })).join()).toMatch(/smb.username: must be a single line/);
  });

  it("refuses a share name with a slash", () => {
    expect(messages(smb({ smb: { server: "h", share: "a/b", username: "u" } })).join()).toMatch(/smb.share: must be a share name/);
  });
});

describe("virtiofs and 9p", () => {
  it("9p uses virtio transport, 9p2000.L, msize 256 KiB and cache=mmap by default", () => {
    expect(renderOptions({ where: "/mnt/p9", ninep: { tag: "share0" } })).toEqual(["trans=virtio", "version=9p2000.L", "msize=262144", "cache=mmap"]);
  });

  it("virtiofs takes dax but nothing unknown", () => {
    expect(messages({ where: "/mnt/v", virtiofs: { tag: "share0" }, options: { dax: "always" } })).toEqual([]);
    expect(messages({ where: "/mnt/v", virtiofs: { tag: "share0" }, options: { cache: "loose" } }).join()).toMatch(/options.cache: is not a known virtiofs mount option/);
  });

  it("refuses tags libvirt cannot carry", () => {
    expect(messages({ where: "/mnt/v", virtiofs: { tag: "a tag with spaces" } }).join()).toMatch(/virtiofs.tag: must be 1-36 letters/);
  });
});

describe("shape", () => {
  it("needs exactly one of nfs, smb, virtiofs, ninep", () => {
    expect(messages({ where: "/mnt/x" }).join()).toMatch(/set exactly one of nfs, smb, virtiofs or ninep/);
    expect(messages({ where: "/mnt/x", virtiofs: { tag: "a" }, ninep: { tag: "a" } }).join()).toMatch(/set exactly one/);
  });

  it("refuses mounting over /", () => {
    expect(messages(nfs({}, { where: "/" })).join()).toMatch(/where: cannot be '\/'/);
  });

  it("refuses activation 'start' with an alternate root", () => {
    expect(messages(nfs({}, { root: "/tmp/img" })).join()).toMatch(/activation: cannot be 'start' with an alternate root/);
    expect(messages(nfs({}, { root: "/tmp/img", activation: "enable" }))).toEqual([]);
  });

  it("skips values not known yet at preview", () => {
    expect(messages({ where: UNKNOWN, nfs: { server: UNKNOWN, exportPath: UNKNOWN } })).toEqual([]);
  });
});

describe("rendered units", () => {
  it("an NFS mount unit", () => {
    const p = planGuestMount(nfs({ nconnect: 4 }));
    expect(Object.keys(p.units)).toEqual(["mnt-share.mount"]);
    expect(p.units["mnt-share.mount"].path).toBe("/etc/systemd/system/mnt-share.mount");
    expect(p.units["mnt-share.mount"].content).toMatchSnapshot();
  });

  it("an automounted virtiofs mount: the .mount has no [Install], the .automount is wanted", () => {
    const p = planGuestMount({ where: "/srv/vm data", virtiofs: { tag: "data" }, automount: true, automountIdleSec: 30 });
    expect(p.primaryUnit).toBe("srv-vm\\x20data.automount");
    expect(p.units["srv-vm\\x20data.mount"].content).not.toContain("[Install]");
    expect(p.units["srv-vm\\x20data.automount"].content).toMatchSnapshot();
    expect(p.units["srv-vm\\x20data.mount"].content).toMatchSnapshot();
  });

  it("escapes % in unit values (systemd specifiers)", () => {
    const p = planGuestMount({ where: "/mnt/100%", virtiofs: { tag: "t" } });
    expect(p.units["mnt-100\\x25.mount"].content).toContain("Where=/mnt/100%%");
  });

  it("puts every file below an alternate root and runs systemctl --root there", () => {
    const p = planGuestMount(nfs({}, { root: "/tmp/img", activation: "enable" }));
    expect(p.units["mnt-share.mount"].path).toBe("/tmp/img/etc/systemd/system/mnt-share.mount");
    expect(p.systemctl).toEqual(["systemctl", "--root=/tmp/img"]);
  });
});

describe("fstab style", () => {
  it("renders one managed block with _netdev and automount options, octal-escaping spaces", () => {
    const p = planGuestMount(smb({ where: "/mnt/my share", style: "fstab", automount: true }), { password: "p" });
    expect(p.fstab?.block).toMatchSnapshot();
    expect(p.fstab?.block).toContain("/mnt/my\\040share cifs vers=3.1.1,seal,credentials=/etc/kvmshare/mnt-my_x20share.cred,_netdev,x-systemd.automount");
  });

  it("splices the block in, replaces it, and takes it out, leaving other lines alone", () => {
    const p = planGuestMount(nfs({}, { style: "fstab" }));
    const f = p.fstab!;
    const orig = "UUID=abc / ext4 defaults 0 1\n";
    const added = spliceFstab(orig, f, f.block);
    expect(added.startsWith(orig)).toBe(true);
    expect(extractFstabBlock(added, f)).toBe(f.block);
    const replaced = spliceFstab(added, f, f.block.replace("timeo=600", "timeo=300"));
    expect(replaced).toContain("timeo=300");
    expect(replaced.match(/kvmshare begin/g)).toHaveLength(1);
    expect(spliceFstab(replaced, f, undefined)).toBe(orig);
  });

  it("escapes backslashes and tabs as getmntent reads them", () => {
    expect(fstabEscape("a\\b\tc d")).toBe("a\\134b\\011c\\040d");
  });
});

describe("GuestMount component (mocks)", () => {
  const { registered: created } = mockPulumi();

  it("creates one host resource with the resolved spec and the password only in secrets", async () => {
    const { GuestMount } = await import("../../components/guest");
    const m = new GuestMount("smb", { where: "/mnt/smb", smb: { server: "10.0.2.2", share: "data", username: "alice" }, password: pulumi.secret("pw") });
    const unit = await new Promise((r) => m.unitName.apply(r));
    expect(unit).toBe("mnt-smb.mount");
    await new Promise((r) => setTimeout(r, 50));
    const child = created.find((c) => c.name === "smb-mount");
    expect(child?.type).toMatch(/^pulumi-nodejs:dynamic/);
    expect(JSON.stringify(child?.inputs.spec)).not.toContain("pw");
    expect(child?.inputs.spec).toMatchObject({ where: "/mnt/smb", smb: { server: "10.0.2.2", share: "data", username: "alice" } });
  });

  it("throws before creating anything when inputs are invalid, naming every field", async () => {
    const { GuestMount } = await import("../../components/guest");
    expect(() => new GuestMount("bad", { where: "mnt", nfs: { server: "h", exportPath: "/x", timeoDeciseconds: 5 } })).toThrow(
      /where: must be an absolute path[\s\S]*timeo is in tenths of a second/,
    );
    expect(() => new GuestMount("nopw", { where: "/mnt/s", smb: { server: "h", share: "d", username: "u" } })).toThrow(/password: is required/);
    expect(created.filter((c) => c.name === "bad-mount" || c.name === "nopw-mount")).toEqual([]);
  });

  it("accepts Outputs for server and export path (checked later by the provider)", async () => {
    const { GuestMount } = await import("../../components/guest");
    expect(() => new GuestMount("late", { where: "/mnt/late", nfs: { server: pulumi.output("10.0.0.1"), exportPath: pulumi.output("/x") } })).not.toThrow();
  });
});
