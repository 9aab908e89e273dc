/**
 * NfsExport: defaults, validation (every problem at once, field + value + fix), forbidden
 * combinations, conflicts, rendered files (snapshots), host-file parsing, and the component's
 * outputs under Pulumi mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { allowedHostNamesOf, allowedSourcesOf, clientKind } from "../../core/clients";
import { checkArgv, EXPORTFS_CHECK, GANESHA_CHECK } from "../../components/nfs/nfsChecks";
import { inactiveClients, parseEtab, parseGaneshaExports, parseKernelExports } from "../../components/nfs/nfsParse";
import { kernelOptions, renderNfsExport } from "../../components/nfs/nfsRender";
import { defaultExportId } from "../../components/nfs/nfsExportArgs";
import { conflictsBetween, PlainNfsExportArgs, resolveNfsExport, validateNfsExportArgs } from "../../components/nfs/nfsExportArgs";
import { renderKernelNfsServer } from "../../components/nfs/kernelNfsServerKind";
import { KernelNfsServerSpec, validateKernelNfsServer } from "../../components/nfs/kernelNfsServerArgs";
import { formatProblem } from "../../core/errors";
import { UNKNOWN } from "../../core/validate";
import { mockPulumi } from "./mocks";

const base = (over: Partial<PlainNfsExportArgs> = {}): PlainNfsExportArgs => ({ path: "/tank/share", clients: ["192.168.122.10"], ...over });
const messages = (a: PlainNfsExportArgs) => validateNfsExportArgs("share", a).map(formatProblem);

describe("defaults", () => {
  it("exports read-only, root_squash, sync, sec=sys, kernel backend, into /etc/exports.d/<name>.exports", () => {
    const s = resolveNfsExport("share", base());
    expect(s).toMatchObject({ backend: "kernel", file: "/etc/exports.d/share.exports", reloadCommand: ["exportfs", "-ra"], check: true, mainExportsFile: "/etc/exports", etabPath: "/var/lib/nfs/etab" });
    expect(s.clients).toEqual([{ host: "192.168.122.10", access: "ro", squash: "root_squash", sync: true, sec: ["sys"] }]);
    expect(kernelOptions(s.clients[0], s)).toBe("ro,sync,root_squash,no_subtree_check,sec=sys");
  });

  it("ganesha: NFSv4 only, pseudo path = export path, a stable Export_Id, reload via systemd", () => {
    const s = resolveNfsExport("share", base({ backend: "ganesha" }));
    expect(s).toMatchObject({ file: "/etc/ganesha/kvmshare.d/share.conf", protocols: [4], pseudo: "/tank/share", exportId: defaultExportId("share"), reloadCommand: ["systemctl", "reload", "nfs-ganesha"], ganeshaConfigPath: "/etc/ganesha/ganesha.conf" });
    expect(defaultExportId("share")).toBe(defaultExportId("share"));
    expect(defaultExportId("share")).toBeGreaterThanOrEqual(1000);
    expect(defaultExportId("share")).toBeLessThan(61000);
    expect(resolveNfsExport("share", base({ backend: "ganesha", nfsv4Only: false })).protocols).toEqual([3, 4]);
  });

  it("per-client options override the export-wide ones", () => {
    const s = resolveNfsExport("share", base({ access: "rw", clients: ["10.0.0.1", { host: "10.0.0.2", access: "ro", sec: ["krb5p"] }] }));
    expect(s.clients.map((c) => [c.access, c.sec])).toEqual([["rw", ["sys"]], ["ro", ["krb5p"]]]);
  });
});

describe("validation", () => {
  it("accepts a plain export", () => {
    expect(messages(base())).toEqual([]);
  });

  describe.each([
    ["no clients", base({ clients: [] }), /clients: must list at least one client/],
    ["'*' without allowAnyClient", base({ clients: ["*"] }), /clients\[0\]\.host: opens the share to every host .*allowAnyClient: true.*\(got '\*'\)/],
    ["'0.0.0.0/0' without allowAnyClient", base({ clients: ["0.0.0.0/0"] }), /clients\[0\]\.host: opens the share to every host .*allowAnyClient: true.*\(got '0\.0\.0\.0\/0'\)/],
    ["'::/0' without allowAnyClient", base({ clients: ["::/0"] }), /clients\[0\]\.host: opens the share to every host .*allowAnyClient: true.*\(got '::\/0'\)/],
    ["no_root_squash without acknowledgement", base({ squash: "no_root_squash" }), /^squash: lets root on the client act as root.*acknowledgeNoRootSquash: true.*\(got 'no_root_squash'\)/],
    ["anonuid 0 without acknowledgement", base({ anonuid: 0 }), /^anonuid: maps squashed users to root/],
    ["a bad CIDR", base({ clients: ["10.0.0.0/33"] }), /clients\[0\]\.host: must be an IP address, a CIDR.*\(got '10\.0\.0\.0\/33'\)/],
    ["a client listed twice", base({ clients: ["10.0.0.1", "10.0.0.1"] }), /clients\[1\]\.host: is listed twice \(also clients\[0\]\); merge/],
    ["a relative path", base({ path: "tank/share" }), /path: must be an absolute path/],
    ["a path with a double quote", base({ path: '/tank/a"b' }), /path: must not contain double quotes/],
    ["an unknown sec flavour", base({ sec: ["sys", "krb9" as never] }), /^sec\[1\]: must be one of sys, krb5, krb5i, krb5p \(got 'krb9'\)/],
    ["an empty sec list", base({ sec: [] }), /^sec: must list one or more of sys, krb5/],
    ["anonuid out of range", base({ anonuid: 4294967295 }), /^anonuid: must be an integer from 0 to 4294967294/],
    ["anongid negative", base({ clients: [{ host: "10.0.0.1", anongid: -2 }] }), /^clients\[0\]\.anongid: must be an integer from 0 to 4294967294/],
    ["fsid not a number/root/uuid", base({ fsid: "abc" }), /fsid: must be an integer from 0 to 4294967295, 'root' .* or a UUID \(got 'abc'\)/],
    ["an extra option that has a field", base({ kernel: { extraOptions: ["no_root_squash"] } }), /kernel\.extraOptions\[0\]: is set by the 'squash' field; use that instead/],
    ["an extra option with a comma", base({ kernel: { extraOptions: ["crossmnt,rw"] } }), /kernel\.extraOptions\[0\]: must be one exports\(5\) option/],
    ["ganesha export id 0", base({ backend: "ganesha", ganesha: { exportId: 0 } }), /ganesha\.exportId: must be an integer from 1 to 65535/],
    ["ganesha pseudo '/'", base({ backend: "ganesha", ganesha: { pseudo: "/" } }), /ganesha\.pseudo: is the NFSv4 pseudo root/],
    ["a ganesha parameter that has a field", base({ backend: "ganesha", ganesha: { extraParameters: { Squash: "none" } } }), /ganesha\.extraParameters\.Squash: is set by the 'squash' field/],
    ["a ganesha value with a brace", base({ backend: "ganesha", ganesha: { extraParameters: { Attr_Expiration_Time: "1; }" } } }), /must be a plain value/],
    ["a bad reload command", base({ reloadCommand: [] }), /reloadCommand: must be a non-empty argv array/],
  ] as [string, PlainNfsExportArgs, RegExp][])("refuses %s", (_label, args, re) => {
    it("naming the field, the value and the fix", () => {
      expect(messages(args).join("\n")).toMatch(new RegExp(re.source, "m"));
    });
  });

  it("accepts fsid as an integer, 'root' or a UUID", () => {
    for (const fsid of [0, 4294967295, "root", "6b2c2f5e-8a4b-4c1e-9d7e-0a1b2c3d4e5f"]) expect(messages(base({ fsid }))).toEqual([]);
  });

  it("accepts no_root_squash and anonuid 0 once acknowledged", () => {
    expect(messages(base({ squash: "no_root_squash", acknowledgeNoRootSquash: true, anonuid: 0 }))).toEqual([]);
  });

  it("accepts '*' with allowAnyClient, host names and *.domain wildcards", () => {
    expect(messages(base({ clients: ["*", "guest1.example", "*.lab.example", "fd00::/64"], allowAnyClient: true }))).toEqual([]);
  });

  describe.each([
    ["ganesha settings on the kernel backend", base({ ganesha: { exportId: 5 } }), /^ganesha: only applies to backend 'ganesha'/],
    ["kernel settings on ganesha", base({ backend: "ganesha", kernel: { extraOptions: [] } }), /^kernel: only applies to backend 'kernel'/],
    ["fsid on ganesha", base({ backend: "ganesha", fsid: 5 }), /^fsid: ganesha uses the file system's own id/],
    ["nfsv4Only on the kernel backend", base({ nfsv4Only: true }), /^nfsv4Only: the kernel server picks NFS versions server-wide/],
    ["async on ganesha", base({ backend: "ganesha", sync: false }), /^sync: ganesha has no async exports/],
  ] as [string, PlainNfsExportArgs, RegExp][])("refuses the combination: %s", (_label, args, re) => {
    it("with one message from the table", () => {
      expect(messages(args).join("\n")).toMatch(new RegExp(re.source, "m"));
    });
  });

  it("reports every problem at once, an export-wide option once under its own name", () => {
    const all = messages(base({ clients: ["*", "10.0.0.0/40", "10.0.0.1"], sec: ["nope" as never], anonuid: -1, fsid: "x" }));
    expect(all.filter((m) => m.startsWith("sec[0]"))).toHaveLength(1);
    expect(all.filter((m) => m.startsWith("anonuid"))).toHaveLength(1);
    expect(all.length).toBe(5);
  });

  it("skips a path not known yet (preview) and checks it later", () => {
    expect(messages(base({ path: UNKNOWN }))).toEqual([]);
  });
});

describe("conflicts between exports on one server", () => {
  const a = resolveNfsExport("a", base({ access: "rw" }));
  it("refuses the same path to the same client with other options", () => {
    const b = resolveNfsExport("b", base({ access: "ro" }));
    expect(conflictsBetween(b, a, "NfsExport 'a'").map(formatProblem)).toEqual([
      "clients: /tank/share is also exported to 192.168.122.10 by NfsExport 'a' with other options (rw, root_squash); use one export per path and client, or make the options equal (got '192.168.122.10')",
    ]);
  });
  it("allows the same path to other clients, and nested paths", () => {
    expect(conflictsBetween(resolveNfsExport("b", base({ clients: ["10.0.0.9"] })), a, "a")).toEqual([]);
    expect(conflictsBetween(resolveNfsExport("b", base({ path: "/tank/share/sub", access: "ro" })), a, "a")).toEqual([]);
  });
  it("refuses the same file, the same ganesha Export_Id or pseudo path", () => {
    expect(conflictsBetween(resolveNfsExport("a", base({ path: "/other" })), a, "x").map((p) => p.field)).toEqual(["exportName"]);
    const g1 = resolveNfsExport("g1", base({ backend: "ganesha", ganesha: { exportId: 7, pseudo: "/p" } }));
    const g2 = resolveNfsExport("g2", base({ backend: "ganesha", path: "/x", ganesha: { exportId: 7, pseudo: "/p" } }));
    expect(conflictsBetween(g2, g1, "g1").map((p) => p.field)).toEqual(["ganesha.exportId", "ganesha.pseudo"]);
  });
});

describe("rendered files", () => {
  it("kernel: one quoted path, each client with its options", () => {
    const s = resolveNfsExport("guests", base({
      path: "/tank/vm share",
      access: "rw",
      fsid: 101,
      clients: ["192.168.122.10", { host: "10.10.0.0/24", access: "ro", sec: ["krb5p", "krb5i"], anonuid: 1000, anongid: 1000 }, { host: "guest1.example", sync: false, squash: "all_squash" }],
      kernel: { extraOptions: ["crossmnt"] },
    }));
    expect(renderNfsExport(s)).toMatchSnapshot();
  });

  it("ganesha: an EXPORT block with Access_Type None and one CLIENT block per client", () => {
    const s = resolveNfsExport("guests", base({
      backend: "ganesha",
      access: "rw",
      clients: ["192.168.122.10", { host: "10.10.0.0/24", access: "ro", squash: "all_squash", anonuid: 65534, anongid: 65534 }],
      ganesha: { exportId: 42, pseudo: "/guests", extraParameters: { Attr_Expiration_Time: "60" } },
    }));
    expect(renderNfsExport(s)).toMatchSnapshot();
  });
});

describe("parsing export files found on the host", () => {
  it("reads exports(5) lines with quotes, continuations, comments and default options", () => {
    const text = '# comment\n"/srv/a b" 10.0.0.1(rw,no_root_squash) \\\n  *.lab(ro,async)\n/srv/c host1 10.0.0.0/8(sec=krb5:sys,all_squash)\n';
    expect(parseKernelExports(text)).toEqual([
      { path: "/srv/a b", host: "10.0.0.1", access: "rw", squash: "no_root_squash", sync: true, sec: ["sys"] },
      { path: "/srv/a b", host: "*.lab", access: "ro", squash: "root_squash", sync: false, sec: ["sys"] },
      { path: "/srv/c", host: "host1", access: "ro", squash: "root_squash", sync: true, sec: ["sys"] },
      { path: "/srv/c", host: "10.0.0.0/8", access: "ro", squash: "all_squash", sync: true, sec: ["krb5", "sys"] },
    ]);
  });
  it("reads the kernel's export table (etab), octal escapes decoded, and names the clients missing from it", () => {
    const etab = "/srv/a\\040b\t192.168.122.10(rw,sync,wdelay)\n/srv/a\\040b\t*.lab(ro)\n/srv/c\tlocalhost(ro)\n";
    expect(parseEtab(etab)).toEqual(new Map([["/srv/a b", new Set(["192.168.122.10", "*.lab"])], ["/srv/c", new Set(["localhost"])]]));
    expect(inactiveClients(etab, "/srv/a b", ["192.168.122.10", "guest.example"])).toEqual(["guest.example"]);
    expect(inactiveClients("", "/srv/c", ["localhost"])).toEqual(["localhost"]);
  });

  it("reads Export_Id, Pseudo and Path of ganesha EXPORT blocks", () => {
    expect(parseGaneshaExports('EXPORT { Export_Id = 3; Path = "/a"; Pseudo = "/pa"; }\n# EXPORT { Export_Id = 9; }\nexport{export_id=4;path=/b;pseudo=/pb;}')).toEqual([
      { exportId: 3, pseudo: "/pa", path: "/a" },
      { exportId: 4, pseudo: "/pb", path: "/b" },
    ]);
  });
});

describe("check commands", () => {
  it("run constant scripts with every value as a positional parameter and the candidate on stdin", () => {
    const k = resolveNfsExport("x", base({ exportsDir: "/etc/exports.d; rm -rf /" }));
    expect(checkArgv(k)).toEqual(["unshare", "-m", "sh", "-c", EXPORTFS_CHECK, "sh", "/etc/exports.d; rm -rf /", "x.exports", "/etc/exports"]);
    const g = resolveNfsExport("y", base({ backend: "ganesha" }));
    expect(checkArgv(g)).toEqual(["unshare", "-m", "-n", "sh", "-c", GANESHA_CHECK, "sh", "/etc/ganesha/kvmshare.d", "y.conf", "ganesha.nfsd"]);
  });
});

describe("allowed sources for a firewall", () => {
  it("keeps IPs and CIDRs, turns '*' into both any-address CIDRs, lists names apart", () => {
    const clients = ["192.168.122.10", "10.0.0.0/24", "guest1.example", "*.lab.example", "*", "fd00::1"];
    expect(clients.map(clientKind)).toEqual(["ip", "cidr", "hostname", "wildcard", "any", "ip"]);
    expect(allowedSourcesOf(clients)).toEqual(["192.168.122.10", "10.0.0.0/24", "0.0.0.0/0", "::/0", "fd00::1"]);
    expect(allowedHostNamesOf(clients)).toEqual(["guest1.example", "*.lab.example"]);
  });
});

describe("NfsExport component under mocks", () => {
  const { registered: created } = mockPulumi();

  it("creates one host resource with the resolved spec and exposes allowedSources", async () => {
    const { NfsExport } = await import("../../components/nfs");
    const e = new NfsExport("vmdata", { path: pulumi.output("/tank/vmdata"), clients: ["192.168.122.10", "guest2.lab"], access: "rw", backend: "ganesha" });
    const sources = await new Promise((r) => e.allowedSources.apply(r));
    const names = await new Promise((r) => e.allowedHostNames.apply(r));
    const mount = await new Promise((r) => e.mountPath.apply(r));
    expect(sources).toEqual(["192.168.122.10"]);
    expect(names).toEqual(["guest2.lab"]);
    expect(mount).toBe("/tank/vmdata");
    await new Promise((r) => setTimeout(r, 50));
    const child = created.find((c) => c.name === "vmdata-export");
    expect(child?.type).toMatch(/^pulumi-nodejs:dynamic/);
    expect(child?.inputs.spec).toMatchObject({ backend: "ganesha", path: "/tank/vmdata", pseudo: "/tank/vmdata", file: "/etc/ganesha/kvmshare.d/vmdata.conf" });
  });

  it("throws before creating anything when inputs are invalid, naming every field", async () => {
    const { NfsExport } = await import("../../components/nfs");
    const before = created.length;
    expect(() => new NfsExport("bad", { path: "/x", clients: ["*"], squash: "no_root_squash" })).toThrow(/NfsExport bad: 2 invalid inputs:[\s\S]*clients\[0\]\.host[\s\S]*squash: lets root/);
    await new Promise((r) => setTimeout(r, 20));
    // No host-side resource: nothing would have run on a host.
    expect(created.slice(before).filter((c) => c.type.startsWith("pulumi-nodejs:dynamic"))).toHaveLength(0);
  });

  it("refuses a second export in the program that conflicts with the first", async () => {
    const { NfsExport } = await import("../../components/nfs");
    new NfsExport("first", { path: "/tank/c", clients: ["10.1.1.1"], access: "rw" });
    expect(() => new NfsExport("second", { path: "/tank/c", clients: ["10.1.1.1"], access: "ro" })).toThrow(/is also exported to 10\.1\.1\.1 by NfsExport 'first'/);
  });
});

describe("KernelNfsServer (NFS versions are server-wide on the kernel server)", () => {
  const spec = (over: Partial<KernelNfsServerSpec> = {}): KernelNfsServerSpec => ({ name: "nfsd", confPath: "/etc/nfs.conf.d/kvmshare.conf", nfsv4Only: true, disableNfs40: false, restartCommand: ["systemctl", "restart", "nfs-server"], check: true, ...over });
  it("renders vers3=n and udp=n for NFSv4.x only", () => {
    expect(renderKernelNfsServer(spec({ threads: 16 }))).toMatchSnapshot();
  });
  it("refuses NFSv4.0 off with NFSv3 on, a drop-in nfs-utils would not read, and a bad thread count", () => {
    expect(validateKernelNfsServer(spec({ nfsv4Only: false, disableNfs40: true, confPath: "/etc/nfs.conf.d/kvmshare", threads: 0 })).map(formatProblem)).toEqual([
      "confPath: must end in .conf (nfs-utils only reads *.conf from /etc/nfs.conf.d) (got '/etc/nfs.conf.d/kvmshare')",
      "disableNfs40: leaves NFSv3 on while turning NFSv4.0 off; set nfsv4Only: true as well (or drop disableNfs40) (got true)",
      "threads: must be an integer from 1 to 1024 (nfsd threads; 8 per core is a common start) (got 0)",
    ]);
  });
  it("is where the kernel backend's nfsv4Only message points", () => {
    expect(messages(base({ nfsv4Only: true })).join("\n")).toMatch(/declare a KernelNfsServer/);
  });
});
