/**
 * HostPackages / HostService: the per-distro table, validation, and the kinds' apply against a
 * scripted host (every command recorded), so the exact argv (apt-get flags, update only when a
 * package is not found, systemctl verbs) is pinned without touching this machine.
 */
import { distroOf, packagesFor, parseOsRelease, servicesFor } from "../../components/host/distroPackages";
import { resolveHostPackages, validateHostPackages } from "../../components/host/hostPackagesArgs";
import { kind as packagesKind } from "../../components/host/hostPackagesKind";
import { resolveHostService, validateHostService } from "../../components/host/hostServiceArgs";
import { kind as serviceKind, normalizeEnabled } from "../../components/host/hostServiceKind";
import { hostSetupOn } from "../../components/host/hostSetup";
import { FakeHost } from "./mocks";

const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const ROCKY = 'NAME="Rocky Linux"\nVERSION_ID="9.3"\nID="rocky"\nID_LIKE="rhel centos fedora"\n';

describe("per-distro table", () => {
  it.each([
    [DEBIAN, "apt", ["nfs-kernel-server", "samba"], ["nfs-server", "smbd"]],
    ['ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"', "apt", ["nfs-kernel-server", "samba"], ["nfs-server", "smbd"]],
    [ROCKY, "dnf", ["nfs-utils", "samba"], ["nfs-server", "smb"]],
  ])("resolves packages and services from os-release", (text, manager, pkgs, services) => {
    const d = distroOf(parseOsRelease(text))!;
    expect(d.manager).toBe(manager);
    expect(packagesFor(d, ["nfsKernelServer", "samba"])).toEqual(pkgs);
    expect(servicesFor(d, ["nfsKernelServer", "samba", "nfsClient"])).toEqual(services);
  });
  it("zfs: zfs-dkms on Debian, the tools only on Ubuntu", () => {
    expect(packagesFor(distroOf(parseOsRelease(DEBIAN))!, ["zfs"])).toEqual(["zfsutils-linux", "zfs-dkms"]);
    expect(packagesFor(distroOf(parseOsRelease("ID=ubuntu"))!, ["zfs"])).toEqual(["zfsutils-linux"]);
  });
  it("an unknown distribution has no row", () => {
    expect(distroOf(parseOsRelease("ID=alpine\n"))).toBeUndefined();
  });
});

describe("validation", () => {
  it("names every bad package and need", () => {
    const p = validateHostPackages(resolveHostPackages("x", { packages: ["-oAPT::x=1", "ok", "a b"], needs: ["nfs" as never] }));
    expect(p.map((x) => x.field)).toEqual(["needs", "packages[0]", "packages[2]"]);
    expect(p.slice(1).map((x) => x.value)).toEqual(["-oAPT::x=1", "a b"]);
  });
  it("HostService needs exactly one of unit and need", () => {
    expect(validateHostService(resolveHostService("s", {})).map((p) => p.field)).toEqual(["unit|need"]);
    expect(validateHostService(resolveHostService("s", { unit: "smbd", need: "samba" })).map((p) => p.field)).toEqual(["unit|need"]);
    expect(validateHostService(resolveHostService("s", { unit: "--now" }))[0].message).toMatch(/systemd unit name/);
  });
  it("the switch: opt-in for now (unset is off whatever the component's default), false and true win", () => {
    expect([hostSetupOn(undefined, true), hostSetupOn(undefined, false), hostSetupOn(false, true), hostSetupOn(true, false), hostSetupOn({ services: false }, false)]).toEqual([false, false, false, true, true]);
  });
});

describe("HostPackages kind", () => {
  const spec = resolveHostPackages("nfsd-host", { needs: ["nfsKernelServer"], packages: ["rsync"] });
  function apt(state: { installed: Set<string>; known: boolean }) {
    return (full: string[]) => {
      // Package-manager calls run under kvmshare's host-wide lock: `flock -w <s> <file> apt-get ...`.
      const argv = full[0] === "flock" ? full.slice(4) : full;
      if (argv[0] === "dpkg-query") {
        const names = argv.slice(3);
        return { stdout: names.filter((n) => state.installed.has(n)).map((n) => `${n}\tii \n`).join(""), code: names.every((n) => state.installed.has(n)) ? 0 : 1 };
      }
      if (argv[0] === "id") return { stdout: "0\n" };
      if (argv[0] === "apt-get" && argv.includes("update")) return void (state.known = true);
      if (argv[0] === "apt-get" && argv.includes("install")) {
        if (!state.known) return { code: 100, stderr: "E: Unable to locate package nfs-kernel-server" };
        argv.slice(argv.indexOf("--no-install-recommends") + 1).forEach((n) => state.installed.add(n));
      }
      if (argv[0] === "apt-get" && argv.includes("remove")) argv.slice(argv.indexOf("-y") + 1).forEach((n) => state.installed.delete(n));
      return undefined;
    };
  }

  it("missing packages are drift; apply installs them non-interactively, updates only when apt does not know them, and records them", async () => {
    const state = { installed: new Set(["rsync"]), known: false };
    const host = new FakeHost({ "/etc/os-release": DEBIAN }, apt(state));
    const live = await packagesKind.probe(host, spec, {});
    expect(live?.missing).toEqual(["nfs-kernel-server"]);
    expect(packagesKind.compare!(packagesKind.render(spec, {}), live!)).toEqual(["missing"]);
    const logs: string[] = [];
    await packagesKind.apply(host, { spec, desired: packagesKind.render(spec, {}), live, secrets: {}, log: (m) => logs.push(m) });
    const aptCalls = host.calls.filter((c) => c.argv.includes("apt-get"));
    // Serialized through one lock per host: parallel resources never race for apt's lists lock.
    expect(aptCalls.every((c) => c.argv.slice(0, 4).join(" ") === "flock -w 1800 /var/lib/kvmshare/packages/.lock")).toBe(true);
    expect(aptCalls.map((c) => c.argv.slice(4).filter((a) => !a.startsWith("-o") && !a.includes("::")).join(" "))).toEqual([
      "apt-get install -y --no-install-recommends nfs-kernel-server",
      "apt-get update",
      "apt-get install -y --no-install-recommends nfs-kernel-server",
    ]);
    expect(aptCalls.every((c) => c.env?.DEBIAN_FRONTEND === "noninteractive")).toBe(true);
    expect(host.files["/var/lib/kvmshare/packages/nfsd-host.list"]).toMatch(/\nnfs-kernel-server\n$/);
    expect(logs.join("\n")).toMatch(/installing nfs-kernel-server with apt-get[\s\S]*apt-get update[\s\S]*installed nfs-kernel-server in/);
    const after = await packagesKind.probe(host, spec, {});
    expect(after).toMatchObject({ missing: [], installedByKvmshare: ["nfs-kernel-server"], distro: "debian 12" });
  });

  it("apt-get update is not run when every package is known", async () => {
    const host = new FakeHost({ "/etc/os-release": DEBIAN }, apt({ installed: new Set(), known: true }));
    await packagesKind.apply(host, { spec, desired: { missing: [] }, live: undefined, secrets: {}, log: () => undefined });
    expect(host.calls.some((c) => c.argv.includes("update"))).toBe(false);
  });

  it("remove: nothing without removePackages; with it, only what it installed and no other resource recorded", async () => {
    const state = { installed: new Set(["rsync", "nfs-kernel-server", "samba"]), known: true };
    const files = {
      "/etc/os-release": DEBIAN,
      "/var/lib/kvmshare/packages/nfsd-host.list": "# x\nnfs-kernel-server\nsamba\n",
    };
    const keep = new FakeHost({ ...files }, apt(state));
    await packagesKind.remove(keep, spec, undefined, () => undefined);
    expect(keep.calls.some((c) => c.argv.includes("remove"))).toBe(false);
    expect(keep.files["/var/lib/kvmshare/packages/nfsd-host.list"]).toBeUndefined();

    const rm = new FakeHost({ ...files }, (argv) => (argv[0] === "sh" ? { stdout: "samba\n" } : apt(state)(argv)));
    await packagesKind.remove(rm, { ...spec, removePackages: true }, undefined, () => undefined);
    expect(rm.calls.filter((c) => c.argv.includes("remove")).map((c) => c.argv.slice(-1))).toEqual([["nfs-kernel-server"]]);
    expect(state.installed.has("samba") && state.installed.has("rsync")).toBe(true);
  });

  it("preflight refuses a distribution the table does not know, naming the switch", async () => {
    const host = new FakeHost({ "/etc/os-release": 'ID=alpine\nPRETTY_NAME="Alpine Linux v3.19"' }, () => undefined);
    const p = await packagesKind.preflight!(host, spec);
    expect(p[0].message).toMatch(/Alpine Linux v3.19, which kvmshare's package table does not know.*hostSetup: false/);
  });
});

describe("HostService kind", () => {
  function systemd(unit: { active: string; enabled: string }) {
    return (argv: string[]) => {
      if (argv[0] === "test") return { code: 0 };
      if (argv[0] === "sh") return { code: 0 };
      if (argv[0] !== "systemctl") return undefined;
      const verb = argv[1];
      if (verb === "show") return { stdout: `LoadState=loaded\nActiveState=${unit.active}\nUnitFileState=${unit.enabled}\n` };
      if (verb === "enable") unit.enabled = "enabled";
      if (verb === "disable") unit.enabled = "disabled";
      if (verb === "start" || verb === "restart") unit.active = "active";
      if (verb === "stop") unit.active = "inactive";
      return undefined;
    };
  }
  const spec = resolveHostService("smb-samba", { need: "samba" });

  it("stopped and disabled by hand is drift; apply enables and starts the table's unit", async () => {
    const unit = { active: "inactive", enabled: "disabled" };
    const host = new FakeHost({ "/etc/os-release": DEBIAN }, systemd(unit));
    const live = await serviceKind.probe(host, spec, {});
    expect(live).toEqual({ unit: "smbd.service", active: "inactive", enabled: "disabled" });
    expect(serviceKind.compare!(serviceKind.render(spec, {}), live!)).toEqual(["active", "enabled"]);
    await serviceKind.apply(host, { spec, desired: serviceKind.render(spec, {}), live, secrets: {}, log: () => undefined });
    expect(host.calls.filter((c) => c.argv[0] === "systemctl" && c.argv[1] !== "show").map((c) => c.argv.join(" "))).toEqual(["systemctl enable -- smbd.service", "systemctl start -- smbd.service"]);
  });

  it("restarts (or reloads) a running service only when restartOn changed", async () => {
    const unit = { active: "active", enabled: "enabled" };
    const host = new FakeHost({ "/etc/os-release": DEBIAN }, systemd(unit));
    const s1 = resolveHostService("x", { unit: "nfs-server", restartOn: ["sha-1"] });
    const ctx = (s: typeof s1, prev: typeof s1) => ({ spec: s, desired: serviceKind.render(s, {}), live: undefined, secrets: {}, previous: { spec: prev, observed: undefined }, log: () => undefined });
    await serviceKind.apply(host, ctx(s1, s1));
    await serviceKind.apply(host, ctx({ ...s1, restartOn: ["sha-2"] }, s1));
    await serviceKind.apply(host, ctx({ ...s1, restartOn: ["sha-3"], onChange: "reload" }, { ...s1, restartOn: ["sha-2"] }));
    expect(host.calls.filter((c) => c.argv[0] === "systemctl" && c.argv[1] !== "show").map((c) => c.argv[1])).toEqual(["restart", "reload"]);
  });

  it("preflight refuses a host without systemd as PID 1, naming PID 1 and the switch", async () => {
    const host = new FakeHost({ "/proc/1/comm": "bash\n" }, (argv) => (argv[0] === "test" ? { code: 1 } : undefined));
    const p = await serviceKind.preflight!(host, spec);
    expect(p[0].message).toMatch(/needs systemd as PID 1 on fake \(PID 1 is 'bash'\).*hostSetup: false/);
  });

  it.each([["static", "loaded", "enabled"], ["masked", "masked", "masked"], ["", "not-found", "not-found"], ["disabled", "loaded", "disabled"]])("is-enabled %s (%s) counts as %s", (v, load, want) => {
    expect(normalizeEnabled(v, load)).toBe(want);
  });
});
