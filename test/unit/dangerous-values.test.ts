/**
 * Dangerous values per field kind, driven from the Args declarations: every string field of every
 * documented Args block (scripts/docs.ts `BLOCKS`) carries a `@fieldKind <kind> [use]` tag in its
 * doc comment, and each value of that kind's table (for a path, of its use's rows), given to the
 * field with an otherwise valid spec (the block's base, test/unit/dangerous-bases.ts), is refused
 * by the component's validation with a message naming the field, the value (escaped; a secret
 * never) and a fix. The probe is built from the field's path and declared type, so a new field is
 * covered the day it is added; a string field without a tag, or a block without a base, fails.
 * Then: each skipping use checked against the validation, package names against this machine's
 * apt, and the resource-name choke point walked for every kind in provider/kinds.ts.
 */
import { BLOCKS, blockFields, FIELD_KINDS, FREE_USES, Row, sourceIndex } from "../../scripts/docs";
import { escapeControl, formatProblem, Problem } from "../../core/errors";
import { KINDS } from "../../provider/kinds";
import { check } from "../../provider/providerImpl";
import { BASES, probeFor } from "./dangerous-bases";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { connect } from "../../core/connection";
import { resolveHostPackages, validateHostPackages } from "../../components/host/hostPackagesArgs";
import { kind as hostPackagesKind } from "../../components/host/hostPackagesKind";

/** Line breakers, control characters, NUL and bidirectional controls: what no value may carry into a file. */
const BREAKERS = ["a\nb", "a\rb", "a\0b", "a\u2028b", "a\u2029b", "a\x1bb", "a\x85b", "a\u202eb", "a\u2066b"];

/** The dangerous values of each field kind: each must be refused by every field of that kind. */
const DANGEROUS: Record<Exclude<(typeof FIELD_KINDS)[number], "path"> | "user", string[]> = {
  name: ["a\nb", "a\rb", "a\0b", "a\u2028b", "a\x1bb"],
  unit: ["reboot.target", "poweroff.target", "halt.target", "kexec.target", "rescue.target", "emergency.target", "shutdown.target", "default.target", "ctrl-alt-del.target", "sysinit.target", "-.mount", "system.slice", "systemd-reboot.service", "rescue.service", "a\nb"],
  // `a+b`, `python3-ruamel.yam` are Debian policy names: refused by HostPackages' preflight
  // against the host's apt index (below), not by the validation.
  package: ["openssh-server-", "rsync+", "*ssh*", "lib.*", "ssh.", "vim:i386", "vim=2:9.0", "vim/bookworm", "^ssh", "a|b", "-oAPT::x=1", "a\nb", "python3-ruamel.yaml-", ".ssh", "a..b"],
  principal: ["krbtgt/EXAMPLE.ORG", "kadmin/admin", "kadmin/changepw", "kadmin/history", "K/M", "WELLKNOWN/ANONYMOUS", "kiprop/kdc.example.org", "changepw/kerberos", "a\nb"],
  user: ["DEFAULT", "default", "DEFAULT1", "$INCLUDE", "a\nb"],
  address: ["0.0.0.0/0", "::/0", "*", "0/0", "a\nb"],
  command: ["root preexec", "preexec", "postexec", "root postexec", "username map script", "add user script", "print command", "magic script", "rootpreexec", "Root  PreExec"],
  // Free text (and secrets): the breakers (a value reaching a file must not end its line or
  // reorder what an editor shows) and a length bound. `opaque` fields reach no file (FREE_USES):
  // they are listed, not fed; `argv` words run without a shell get ARGV.
  free: [...BREAKERS, "x".repeat(5000)],
};

/**
 * Path values by the field's declared use (`@fieldKind path <use>`, core/writePaths.ts PathUse):
 * every path refuses line breaks, NUL and `..`; an absolute one refuses a relative value; a
 * written one refuses system paths; a path handed to a tool refuses shell syntax (spaces are
 * legal in mount points and other paths on purpose).
 */
const PATH_ROWS: { values: string[]; uses: string[] }[] = [
  { values: ["/srv/a\nb", "/srv/a\0b", "/srv/a\rb", "/srv/a\u2028b", "/srv/../etc/shadow"], uses: ["file", "dir", "unitDir", "unitFile", "tree", "tool", "toolRead", "device", "read"] },
  { values: ["relative/path"], uses: ["file", "dir", "unitDir", "unitFile", "tree", "tool", "toolRead", "device", "read"] },
  { values: ["/etc/shadow", "/etc/profile.d/x.sh", "/root/.bashrc", "/etc/cron.d/x", "/etc/sudoers.d/x", "/etc/pam.d/x", "/etc/systemd/system/x.service", "/usr/lib/x"], uses: ["file", "dir", "unitDir", "unitFile", "tree", "tool", "device"] },
  { values: ["/srv/$x", "/srv/`x`", "/srv/a;b", "/srv/a b"], uses: ["tool", "toolRead"] },
  { values: ["a\nb", "a\0b", "../x", "a/../../x"], uses: ["relative"] },
];
const PATH_USES = [...new Set(PATH_ROWS.flatMap((r) => r.uses))];
const pathValues = (use: string) => PATH_ROWS.filter((r) => r.uses.includes(use)).flatMap((r) => r.values);

const index = sourceIndex();
const rows: (Row & { block: string; key: string })[] = Object.keys(BLOCKS)
  .filter((b) => !BLOCKS[b].render)
  .flatMap((block) => blockFields(block, {}, index).map((r) => ({ ...r, block, key: `${block}.${r.field}` })));
const stringRows = rows.filter((r) => /\bstring\b/.test(r.type));
const NOT_FED = ["opaque"];
/** A word of a command run without a shell: NUL ends it early (the program gets another argument), an empty one is a mistake. */
const ARGV = ["a\0b", ""];
const valuesOf = (r: Row) =>
  r.fieldKind === "path" ? pathValues(r.use ?? "") : r.use === "argv" ? ARGV : NOT_FED.includes(r.use ?? "") ? [] : (DANGEROUS[r.fieldKind as keyof typeof DANGEROUS] ?? []);
const kindOf = (r: Row) => (r.use ? `${r.fieldKind} ${r.use}` : r.fieldKind!);

describe("every string field declares its kind", () => {
  it("has a @fieldKind tag from FIELD_KINDS in its Args doc comment (a path field with its use)", () => {
    const allowed: string[] = [...FIELD_KINDS, "user"];
    const bad = stringRows.filter((r) => !r.fieldKind || !allowed.includes(r.fieldKind)).map((r) => `${r.key} (${r.fieldKind ?? "no tag"})`);
    expect(bad).toEqual([]);
    expect(stringRows.filter((r) => r.fieldKind === "path" && !PATH_USES.includes(r.use ?? "")).map((r) => `${r.key} (${r.use ?? "no use"})`)).toEqual([]);
    expect(stringRows.filter((r) => r.fieldKind === "free" && r.use && !(FREE_USES as readonly string[]).includes(r.use)).map((r) => r.key)).toEqual([]);
    expect(stringRows.filter((r) => r.fieldKind !== "path" && r.fieldKind !== "free" && r.use).map((r) => r.key)).toEqual([]);
    expect(stringRows.length).toBeGreaterThan(150);
  });

  it("every documented block has a base spec, and every base is valid as it stands", () => {
    const blocks = Object.keys(BLOCKS).filter((b) => !BLOCKS[b].render);
    expect(blocks.filter((b) => !BASES[b])).toEqual([]);
    expect(Object.keys(BASES).filter((b) => !blocks.includes(b))).toEqual([]);
    for (const [block, base] of Object.entries(BASES)) expect([block, base.validate(base.args)]).toEqual([block, []]);
  });

  it("every string field is probed with its kind's values (the counts of the closing note)", () => {
    const count: Record<string, { fields: number; values: number }> = {};
    for (const r of stringRows) {
      const k = kindOf(r);
      count[k] = { fields: (count[k]?.fields ?? 0) + 1, values: (count[k]?.values ?? 0) + valuesOf(r).length };
    }
    const probes = stringRows.reduce((n, r) => n + valuesOf(r).length, 0);
    console.log(`dangerous values: ${stringRows.length} string fields of ${Object.keys(BASES).length} blocks, ${probes} probes; per kind: ${JSON.stringify(count)}`);
    expect(stringRows.filter((r) => valuesOf(r).length === 0 && !NOT_FED.includes(r.use ?? "")).map((r) => r.key)).toEqual([]);
    console.log(`not fed (reach no file: opaque values): ${stringRows.filter((r) => valuesOf(r).length === 0).map((r) => `${r.key} (${r.use})`).join(", ")}`);
    expect(Object.values(count).reduce((a, b) => a + b.fields, 0)).toBe(stringRows.length);
  });
});

/** The refusal of `v` in `problems` for the field `field` (dotted, `[]` for list elements), if any. */
function refusal(problems: Problem[], field: string, kind: string, v: string): Problem | undefined {
  const want = field.replace(/\[\]/g, "");
  const named = (p: Problem) => p.field.replace(/\[[^\]]*\]/g, "").startsWith(want) || (want.includes(".") && p.field.replace(/\[[^\]]*\]/g, "") === want.slice(0, want.lastIndexOf(".")));
  const shows = (p: Problem) =>
    kind === "free secret" || p.value === v || p.field.includes(v) || JSON.stringify(p.value ?? "").includes(JSON.stringify(v).slice(1, -1)) || (kind === "command" && p.field.toLowerCase().includes(v.toLowerCase()));
  return problems.find((p) => named(p) && shows(p));
}

const cases = stringRows.flatMap((r) => valuesOf(r).map((v) => ({ key: r.key, kind: kindOf(r), v, shown: JSON.stringify(v.length > 40 ? `${v.slice(0, 10)}... (${v.length} characters)` : v), row: r })));

describe.each(cases)("$key ($kind) refuses $shown", ({ kind, v, row }) => {
  it("at preview, with a message naming the field, the value (escaped) and a fix", () => {
    const probe = probeFor(row.block, row.field, row.type, kind === "command")!;
    const problems = probe(v);
    const hit = refusal(problems, row.field, kind, v);
    expect([v, hit ?? problems]).toEqual([v, expect.objectContaining({ message: expect.any(String) })]);
    const text = formatProblem(hit!);
    expect(text).not.toMatch(/[\n\r\0\u2028\u2029\x85\u202e\u2066]/);
    const escaped = escapeControl(v).slice(0, 60);
    // A secret is named by its field and never shown; every other value is shown, escaped.
    if (kind === "free secret") expect([text.includes(v), text.includes(escaped)]).toEqual([false, false]);
    else expect(text.includes(escaped) || text.includes(JSON.stringify(v).slice(1, 60))).toBe(true);
    // A fix: what to write instead, or the opt-in to set.
    expect(hit!.message).toMatch(/e\.g\.|use |set |list |write |name |rename|leave|declare|must (be|not|start|hold)|choose|remove|at most|shorten|only|known:/i);
  });
});

describe("a path field's declared use is the one its validation applies", () => {
  // The other side of the path rows: a use that skips a row must really take that value, so a
  // field tagged `read` (no write-path policy) or `relative` that its validation treats as a
  // write is caught here, not silently spared the system-path rows.
  const accepted: Record<string, string> = { read: "/usr/lib", toolRead: "/root/.ssh/id_ed25519", relative: "sub/dir/.alive" };
  const tagged = stringRows.filter((r) => r.fieldKind === "path" && accepted[r.use ?? ""]);
  it.each(tagged.map((r) => [r.key, r.use!, r] as const))("%s (%s) takes a value the rows it skips would refuse", (_key, use, r) => {
    const problems = probeFor(r.block, r.field, r.type)!(accepted[use]);
    expect(problems.filter((p) => p.field.replace(/\[\d+\]/g, "").startsWith(r.field.replace(/\[\]/g, "")))).toEqual([]);
  });
  it("covers each use that skips rows", () => expect([...new Set(tagged.map((r) => r.use))].sort()).toEqual(["read", "relative", "toolRead"]));
});

describe("package names against this machine's apt (Debian policy names pass validation; the preflight wants an exact index entry)", () => {
  jest.setTimeout(60_000);
  const policyNames = ["python3-ruamel.yaml", "python3-ruamel.yaml.clib", "dvd+rw-tools", "g++", "libsigc++-2.0-dev", "python3.11"];

  it("the validation takes Debian policy names with '.' and '+' (i25a refused python3-ruamel.yaml)", () => {
    expect(validateHostPackages(resolveHostPackages("p", { packages: policyNames }))).toEqual([]);
  });

  it("apt-get reads a dotted name no package has as a regular expression: python3-ruamel.yam installs 2 packages (apt-get -s)", () => {
    const sim = execFileSync("apt-get", ["-s", "install", "python3-ruamel.yam"], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
    const inst = sim.split("\n").filter((l) => l.startsWith("Inst ")).map((l) => l.split(" ")[1]);
    expect(inst.sort()).toEqual(["python3-ruamel.yaml", "python3-ruamel.yaml.clib"]);
  });

  it("HostPackages' preflight refuses at preview every name the apt index lacks by that exact name, naming field, value and fix", async () => {
    const host = await connect({ kind: "local" });
    const wanted = [...policyNames.slice(0, 4), "python3-ruamel.yam", "a+b", "rsync", "kvmshare-no-such-package"];
    const problems = await hostPackagesKind.preflight!(host, resolveHostPackages("p", { packages: wanted }));
    expect(problems.map((p) => [p.field, p.value])).toEqual([
      ["packages[4]", "python3-ruamel.yam"],
      ["packages[5]", "a+b"],
      ["packages[7]", "kvmshare-no-such-package"],
    ]);
    expect(problems[0].message).toMatch(/^is not a package in local's apt index \(apt-cache pkgnames lists no package of exactly that name\), and apt-get would read it as a regular expression.*; write the package's exact name/);
    expect(problems[2].message).not.toMatch(/regular expression/);
  });

  it("a host with no apt lists yet (dpkg's installed packages only) refuses just the names apt-get would read as a pattern", async () => {
    // apt-cache pkgnames still lists the installed packages then: every other name would look missing.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-apt-"));
    fs.mkdirSync(path.join(dir, "lists", "partial"), { recursive: true });
    fs.writeFileSync(path.join(dir, "apt.conf"), `Dir::State::lists "${dir}/lists/";\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n`);
    const before = process.env.APT_CONFIG;
    process.env.APT_CONFIG = path.join(dir, "apt.conf");
    try {
      const host = await connect({ kind: "local" });
      const installedOnly = execFileSync("apt-cache", ["pkgnames"], { encoding: "utf8", env: { ...process.env }, maxBuffer: 64 << 20 }).split("\n").filter(Boolean);
      expect(installedOnly.length).toBeGreaterThan(0);
      expect(installedOnly).not.toContain("kvmshare-no-such-package");
      const problems = await hostPackagesKind.preflight!(host, resolveHostPackages("p", { packages: ["python3-ruamel.yam", "kvmshare-no-such-package", "g++"] }));
      expect(problems.map((p) => [p.field, p.value])).toEqual([["packages[0]", "python3-ruamel.yam"], ["packages[2]", "g++"]]);
      expect(problems[0].message).toMatch(/has no apt package index yet.*run apt-get update on the host first/);
    } finally {
      if (before === undefined) delete process.env.APT_CONFIG;
      else process.env.APT_CONFIG = before;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the resource-name choke point", () => {
  const hostile = ["x\n*/admin@EXAMPLE.ORG *", "x]\n[global]\nroot preexec = /bin/sh", "a b", 'x"', "x\u2028y", "x{", "x;y", "x#y", "x$y", "x%y"];
  it.each(Object.keys(KINDS))("kind %s refuses a hostile spec.name at preview, naming it", async (kindId) => {
    for (const name of hostile) {
      const r = await check(kindId, { spec: {} } as never, { connection: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never, spec: { name } });
      const f = r.failures.find((x) => x.property === "name");
      expect(f).toBeDefined();
      expect(f!.reason).not.toMatch(/[\n\u2028]/);
      expect(f!.reason).toContain(escapeControl(name));
    }
  });
  it("accepts the names kvmshare's own examples use", async () => {
    for (const name of ["data", "tank/data", "vm-01.example", "a+b/../c", "alice@EXAMPLE.ORG", "nfs/server.example.org"]) {
      const r = await check("HostPackages", { spec: {} } as never, { connection: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never, spec: { name, needs: [], packages: [], removePackages: false, recordDir: "/var/lib/kvmshare/packages" } });
      expect(r.failures.filter((f) => f.property === "name" && /letters, digits/.test(f.reason) && !/1-100/.test(f.reason))).toEqual([]);
    }
  });
});
