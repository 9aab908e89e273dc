/**
 * Transpile the CLI (cli/, core/, components/, transfer/, perf/: the modules whose subcommands cli/kvmshare.ts
 * registers; add a directory here when a registrar imports from one) to plain JS in a scratch directory, so tests and the
 * benchmark start `kvmshare` in ~0.1 s instead of paying ts-node's start-up on every run.
 * Bare imports (ssh2, commander) resolve through NODE_PATH = this repo's node_modules.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");

export interface BuiltCli {
  /** argv prefix: [node, script] */
  argv: string[];
  env: NodeJS.ProcessEnv;
  dir: string;
  remove(): void;
}

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

export function buildCli(): BuiltCli {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kvmshare-cli-"));
  // Every source directory the CLI's subcommands may load (other modules register theirs).
  const dirs = ["core", "components", "transfer", "perf", "cli"].map((d) => path.join(ROOT, d)).filter((d) => fs.existsSync(d));
  for (const src of dirs.flatMap(listTs)) {
    const out = path.join(dir, path.relative(ROOT, src)).replace(/\.ts$/, ".js");
    const js = ts.transpileModule(fs.readFileSync(src, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, useDefineForClassFields: false },
      fileName: src,
    }).outputText;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, js);
  }
  if (fs.existsSync(path.join(ROOT, "templates"))) fs.symlinkSync(path.join(ROOT, "templates"), path.join(dir, "templates"));
  const nodePath = [path.join(ROOT, "node_modules"), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  return {
    argv: [process.execPath, path.join(dir, "cli", "kvmshare.js")],
    env: { ...process.env, NODE_PATH: nodePath },
    dir,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
