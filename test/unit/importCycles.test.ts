/**
 * The library's modules import each other without cycles (a cycle makes load order matter and
 * hides which file owns a thing), downward only (the house's floors: core, then the engines
 * transfer/ and perf/, then the areas under components/, then provider/, then the entry points),
 * and an area reaches another area only through that area's public index. Code outside test/
 * never imports test code. The graph is read from the sources' relative imports.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");
const DIRS = ["core", "components", "transfer", "perf", "provider", "cli"];

/** The floors, bottom first: a module may import its own floor and the ones below. */
const FLOORS: Record<string, number> = { core: 0, transfer: 1, perf: 1, components: 2, provider: 3, cli: 4, "index.ts": 4 };

/**
 * Modules allowed to name a floor above, each for a stated reason. Pulumi state written by
 * kvmshare 0.1.x loads `kvmshare/dist/core/providerImpl`: that path re-exports provider/.
 */
const STATE_SHIMS = new Set(["core/providerImpl.ts"]);

/** The floor of a library file (relative to the root), or undefined outside the library. */
function floorOf(rel: string): number | undefined {
  return FLOORS[rel.split("/")[0]];
}

/** `components/<area>/...` -> the area's name. */
function areaOf(rel: string): string | undefined {
  const m = /^components\/([^/]+)\//.exec(rel);
  return m?.[1];
}

/** Every import that breaks a floor or reaches into another area's internals. */
export function violations(edges: [string, string][]): string[] {
  const out: string[] = [];
  for (const [from, to] of edges) {
    const ff = floorOf(from), ft = floorOf(to);
    if (ff !== undefined && ft !== undefined && ft > ff && !STATE_SHIMS.has(from)) out.push(`upward: ${from} -> ${to}`);
    const af = areaOf(from), at = areaOf(to);
    if (af && at && af !== at && to !== `components/${at}/index.ts`) out.push(`into another area's internals: ${from} -> ${to} (import "../${at}" instead)`);
  }
  return out;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  return [base + ".ts", path.join(base, "index.ts")].find((c) => fs.existsSync(c));
}

/** Static imports and re-exports (type-only ones included: they still tie the files together). */
function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, false);
  const out: string[] = [];
  sf.forEachChild((n) => {
    const spec = (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier) ? n.moduleSpecifier.text : undefined;
    const target = spec && resolveImport(file, spec);
    if (target) out.push(target);
  });
  return out;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === "open") found.push([...stack.slice(stack.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe("import graph", () => {
  const files = [...DIRS.flatMap((d) => sources(path.join(ROOT, d))), path.join(ROOT, "index.ts")];
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it("reads the library's modules and their imports", () => {
    expect(files.length).toBeGreaterThan(100);
    expect([...graph.values()].flat().length).toBeGreaterThan(300);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    expect(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]))).toEqual([["a", "b", "c", "a"]]);
  });

  const rel = (f: string) => path.relative(ROOT, f);
  const edges: [string, string][] = [...graph].flatMap(([f, ts]) => ts.map((t): [string, string] => [rel(f), rel(t)]));

  it("finds an upward import and an import of another area's internals (the rule can fail)", () => {
    expect(violations([
      ["core/validate.ts", "components/storage/zfsNames.ts"],
      ["core/connection.ts", "provider/kinds.ts"],
      ["transfer/engine.ts", "components/transfer/index.ts"],
      ["components/nfs/nfsExportArgs.ts", "components/kerberos/krbNames.ts"],
      ["components/protection/zfsReplicationArgs.ts", "components/storage/index.ts"],
      ["provider/kinds.ts", "components/storage/zfsPoolKind.ts"],
      ["core/providerImpl.ts", "provider/providerImpl.ts"],
    ])).toEqual([
      "upward: core/validate.ts -> components/storage/zfsNames.ts",
      "upward: core/connection.ts -> provider/kinds.ts",
      "upward: transfer/engine.ts -> components/transfer/index.ts",
      "into another area's internals: components/nfs/nfsExportArgs.ts -> components/kerberos/krbNames.ts (import \"../kerberos\" instead)",
    ]);
  });

  it("imports only downward, and another area only through its index", () => {
    expect(violations(edges)).toEqual([]);
  });

  it("keeps the state shims to one re-export each", () => {
    for (const shim of STATE_SHIMS) {
      const src = fs.readFileSync(path.join(ROOT, shim), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").trim();
      expect(src).toMatch(/^export \* from "[^"]+";$/);
    }
  });

  it("keeps test code out of everything outside test/", () => {
    const outside = ["core", "components", "transfer", "perf", "provider", "cli", "scripts", "examples", "quickstart", "tools"]
      .filter((d) => fs.existsSync(path.join(ROOT, d)))
      .flatMap((d) => sources(path.join(ROOT, d)))
      .filter((f) => !f.includes("node_modules"));
    const intoTest = outside.flatMap((f) => {
      const text = fs.readFileSync(f, "utf8");
      const specs = [...text.matchAll(/(?:from |import\(|require\()"(\.[^"]+)"/g)].map((m) => m[1]);
      return specs.filter((s) => path.relative(ROOT, path.resolve(path.dirname(f), s)).split(path.sep)[0] === "test").map((s) => `${rel(f)} -> ${s}`);
    });
    expect(outside.length).toBeGreaterThan(100);
    expect(intoTest).toEqual([]);
  });

  it("has no import cycles", () => {
    const rel = cycles(graph).map((c) => c.map((f) => path.relative(ROOT, f)).join(" -> "));
    expect(rel).toEqual([]);
  });
});
