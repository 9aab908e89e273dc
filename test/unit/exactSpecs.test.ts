/**
 * Spec types are exact (no `[k: string]: unknown`): `exactSpecs.typetest.ts` misspells a field of
 * every spec under `@ts-expect-error`, so it type-checks only while each misspelling is an
 * error. This runs the compiler on it (the unit lane does not type-check: ts-jest diagnostics
 * are off), and shows the check can fail: the same file against a spec with an index signature.
 */
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");
const TYPETEST = path.join(__dirname, "exactSpecs.typetest.ts");

function options(): ts.CompilerOptions {
  const cfg = ts.readConfigFile(path.join(ROOT, "tsconfig.json"), ts.sys.readFile);
  return { ...ts.parseJsonConfigFileContent(cfg.config, ts.sys, ROOT).options, noEmit: true };
}

/** The diagnostics of `file`, with some files' text replaced. */
function diagnostics(file: string, replaced: Record<string, (text: string) => string> = {}): string[] {
  const opts = options();
  const host = ts.createCompilerHost(opts);
  const read = host.readFile.bind(host);
  host.readFile = (f) => {
    const text = read(f);
    const edit = replaced[path.resolve(f)];
    return text !== undefined && edit ? edit(text) : text;
  };
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, onError, create) => {
    const edit = replaced[path.resolve(f)];
    if (!edit) return getSource(f, lang, onError, create);
    return ts.createSourceFile(f, edit(ts.sys.readFile(f) ?? ""), lang);
  };
  const program = ts.createProgram([file], opts, host);
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.relative(ROOT, d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

describe("exact spec types", () => {
  it("every misspelled spec field in exactSpecs.typetest.ts is a compile error", () => {
    expect(diagnostics(TYPETEST)).toEqual([]);
  }, 60_000);

  it("fails when a spec type gets an index signature back", () => {
    const datasetArgs = path.join(ROOT, "components/storage/zfsDatasetArgs.ts");
    const withIndex = (text: string) => {
      const out = text.replace(/(export type ZfsDatasetSpec = [^{]*\{)/, "$1\n  [k: string]: unknown;");
      if (out === text) throw new Error("ZfsDatasetSpec declaration not found: update this test");
      return out;
    };
    const found = diagnostics(TYPETEST, { [datasetArgs]: withIndex });
    expect(found.some((d) => d.includes("Unused '@ts-expect-error' directive"))).toBe(true);
    expect(found.some((d) => d.includes("Type 'true' is not assignable to type 'false'"))).toBe(true);
    expect(found.every((d) => d.startsWith("test/unit/exactSpecs.typetest.ts:"))).toBe(true);
  }, 60_000);
});
