/**
 * The library's modules import each other without cycles (a cycle makes load order matter and
 * hides which file owns a thing). The graph is read from the sources' relative imports.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");
const DIRS = ["core", "components", "transfer", "perf", "cli"];

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
  const files = DIRS.flatMap((d) => sources(path.join(ROOT, d)));
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it("reads the library's modules and their imports", () => {
    expect(files.length).toBeGreaterThan(100);
    expect([...graph.values()].flat().length).toBeGreaterThan(300);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    expect(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]))).toEqual([["a", "b", "c", "a"]]);
  });

  it("has no import cycles", () => {
    const rel = cycles(graph).map((c) => c.map((f) => path.relative(ROOT, f)).join(" -> "));
    expect(rel).toEqual([]);
  });
});
