/** The one policy for a missing program (test/requirePrograms.ts) and its program -> package table. */
import * as fs from "fs";
import * as path from "path";
import { banner, missingPrograms, PACKAGE_OF, PROGRAMS, programsRequired, requirePrograms, whatIsMissing } from "../requirePrograms";
import { ZFS_FUSE_PROGRAMS } from "../fixtures/zfsFuse";
import { VM_PROGRAMS } from "../vm/lane";

const listed = new Set(
  fs
    .readFileSync(path.join(__dirname, "../../scripts/debian-packages.txt"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean),
);
const NO_SUCH = "ks-no-such-program-4711";

describe("program -> package table", () => {
  it("names only packages that scripts/debian-packages.txt installs (or essential util-linux)", () => {
    // Or a set-up script that builds it from Go modules (and exists).
    const built = (pkg: string) => /^none \(built by (scripts\/[\w.-]+\.sh)\)$/.exec(pkg)?.[1];
    const unlisted = Object.entries(PACKAGE_OF).filter(([, pkg]) => !listed.has(pkg) && pkg !== "util-linux" && !(built(pkg) && fs.existsSync(path.join(__dirname, "../..", built(pkg)!))));
    expect(unlisted).toEqual([]);
  });

  it("knows the package of every program a test file or the VM lane requires", () => {
    const all = [...Object.values(PROGRAMS).flat(), ...ZFS_FUSE_PROGRAMS, ...VM_PROGRAMS];
    expect(all.filter((p) => !(p in PACKAGE_OF))).toEqual([]);
  });
});

describe("finding what is missing", () => {
  it("finds a program on the search path and reports one that is nowhere", () => {
    expect(missingPrograms(["sh", NO_SUCH])).toEqual([NO_SUCH]);
  });

  it("names the package of a known program and the file of a missing requirement", () => {
    expect(whatIsMissing([NO_SUCH])).toEqual([`program '${NO_SUCH}' (Debian package unknown: add it to test/requirePrograms.ts)`]);
    expect(whatIsMissing([], { files: [{ path: "/nonexistent/zfs.ko", package: "linux-image-amd64" }] })).toEqual([
      "file /nonexistent/zfs.ko (Debian package linux-image-amd64)",
    ]);
  });

  it.each([
    [{ CI: "true" }, true],
    [{ KVMSHARE_REQUIRE_PROGRAMS: "1" }, true],
    [{ KVMSHARE_VM_REQUIRED: "1" }, true],
    [{ CI: "false" }, false],
    [{}, false],
  ])("environment %j requires the programs: %s", (env, required) => {
    expect(programsRequired(env as NodeJS.ProcessEnv)).toBe(required);
  });

  it("the banner names the file, each missing thing and the apt-get line", () => {
    const text = banner("test/integration/x.test.ts", ["program 'smbtorture' (Debian package samba-testsuite)", "program 'zpool' (Debian package zfs-fuse)"], true);
    expect(text).toContain("MISSING PREREQUISITES (CI: this is a failure): test/integration/x.test.ts");
    expect(text).toContain("#   - program 'smbtorture' (Debian package samba-testsuite)");
    expect(text).toContain("# Install: apt-get install samba-testsuite zfs-fuse");
  });
});

describe("requirePrograms", () => {
  const KEYS = ["CI", "KVMSHARE_REQUIRE_PROGRAMS", "KVMSHARE_VM_REQUIRED"] as const;
  let saved: Record<string, string | undefined>;
  let written: string[];
  let writeSpy: jest.SpyInstance;
  beforeEach(() => {
    saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
    for (const k of KEYS) delete process.env[k];
    written = [];
    writeSpy = jest.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => (written.push(String(c)), true));
  });
  afterEach(() => {
    writeSpy.mockRestore();
    for (const k of KEYS) if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  });

  it("is jest's describe when everything is there, and prints nothing", () => {
    expect(requirePrograms(["sh"])).toBe(describe);
    expect(written).toEqual([]);
  });

  it("outside CI skips, with the banner printed once", () => {
    expect(requirePrograms(["sh", NO_SUCH])).toBe(describe.skip);
    expect(written).toHaveLength(1);
    expect(written[0]).toContain("TESTS SKIPPED: missing prerequisites: test/unit/requirePrograms.test.ts");
    expect(written[0]).toContain(`program '${NO_SUCH}'`);
  });

  it("under CI turns the block into one failing test that carries the banner", () => {
    process.env.CI = "true";
    const d = requirePrograms([NO_SUCH]);
    expect(d).not.toBe(describe);
    expect(written).toEqual([]);
    // Run the returned describe against stand-ins for jest's globals to see what it registers.
    const g = globalThis as unknown as { describe: unknown; test: unknown };
    const [realDescribe, realTest] = [g.describe, g.test];
    const registered: { name: string; fn: () => void }[] = [];
    let bodyRan = false;
    g.describe = (_n: string, fn: () => void) => fn();
    g.test = (name: string, fn: () => void) => registered.push({ name, fn });
    try {
      d("a block whose body must not run", () => {
        bodyRan = true;
      });
    } finally {
      g.describe = realDescribe;
      g.test = realTest;
    }
    expect(bodyRan).toBe(false);
    expect(registered.map((r) => r.name)).toEqual(["its programs are installed"]);
    expect(() => registered[0].fn()).toThrow(/MISSING PREREQUISITES \(CI: this is a failure\)[\s\S]*ks-no-such-program-4711/);
  });
});
