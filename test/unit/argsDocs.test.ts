/**
 * Every public Args field is documented, and every optional one says its default and what that
 * default does (`@default ...`). Read from the sources with the TypeScript compiler, so a field
 * added without a doc comment fails here.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

interface Finding { where: string; field: string; problem: string }

function lint(file: string): { interfaces: number; fields: number; findings: Finding[] } {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const findings: Finding[] = [];
  let interfaces = 0, fields = 0;
  sf.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || !/Args$/.test(node.name.text)) return;
    if (!node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return;
    interfaces++;
    for (const m of node.members) {
      if (!ts.isPropertySignature(m) || !m.name) continue;
      fields++;
      const field = m.name.getText(sf);
      const docs = ts.getJSDocCommentsAndTags(m).map((d) => d.getText(sf)).join("\n");
      const where = `${path.relative(ROOT, file)} ${node.name.text}`;
      if (!docs.trim()) findings.push({ where, field, problem: "has no doc comment" });
      else if (m.questionToken && !/@default\b/.test(docs)) findings.push({ where, field, problem: "is optional but its doc says no @default" });
    }
  });
  return { interfaces, fields, findings };
}

describe("Args documentation", () => {
  const files = ["components", "core"].flatMap((d) => sources(path.join(ROOT, d)));
  const results = files.map(lint);

  it("finds the public Args interfaces (the lint reads something)", () => {
    expect(results.reduce((n, r) => n + r.interfaces, 0)).toBeGreaterThan(20);
    expect(results.reduce((n, r) => n + r.fields, 0)).toBeGreaterThan(150);
  });

  it("documents every field, and every optional field's default", () => {
    const findings = results.flatMap((r) => r.findings).map((f) => `${f.where}.${f.field} ${f.problem}`);
    expect(findings).toEqual([]);
  });
});
