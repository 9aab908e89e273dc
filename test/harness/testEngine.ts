/**
 * The engine a test stands its stacks up with: `testEngine({ stateFile })`.
 *
 * By default the real Pulumi engine (the CLI through the Automation API, `CliEngine`), so what a
 * test proves is what `pulumi up` does. `inProcess: true` is the in-process emulator (`Engine`),
 * for a test that must call the providers itself (it names why next to the option);
 * `KVMSHARE_TEST_ENGINE=in-process` runs every test on it (a quick local loop, not CI).
 */
import * as fs from "fs";
import * as path from "path";
import { CliEngine } from "./cliEngine";
import { Engine, EngineOptions, RunResult, StoredResource } from "./engine";

export interface TestEngine {
  /** `pulumi up` (optionally `--refresh`): make the hosts match the program. */
  up(program: () => unknown, opts?: { refresh?: boolean }): Promise<RunResult>;
  /** `pulumi preview` (optionally `--refresh`). */
  preview(program: () => unknown, opts?: { refresh?: boolean }): Promise<RunResult>;
  /** `pulumi refresh`. */
  refresh(): Promise<RunResult>;
  /** `pulumi destroy`. */
  destroy(): Promise<RunResult>;
  /** The host resources in state, secrets decrypted. */
  state(): StoredResource[];
  /** Every file the engine stored state in, as text on disk (secrets must be ciphertext there). */
  storedText(): string;
}

export interface TestEngineOptions extends EngineOptions {
  /** The in-process emulator instead of the CLI. @default false */
  inProcess?: boolean;
}

export function testEngine(opts: TestEngineOptions): TestEngine {
  const inProcess = opts.inProcess || process.env.KVMSHARE_TEST_ENGINE === "in-process";
  const engine: TestEngine = inProcess ? new Engine(opts) : new CliEngine(opts);
  const log = process.env.KVMSHARE_ENGINE_TIMING;
  return log ? timed(engine, log, inProcess ? "in-process" : "cli") : engine;
}

/** `KVMSHARE_ENGINE_TIMING=<file>`: append one line per operation (test file, engine, op, ms). */
function timed(engine: TestEngine, log: string, kind: string): TestEngine {
  const test = path.basename(expect.getState().testPath ?? "?");
  const wrap =
    <A extends unknown[]>(op: string, fn: (...a: A) => Promise<RunResult>) =>
    async (...a: A) => {
      const t = Date.now();
      try {
        return await fn(...a);
      } finally {
        fs.appendFileSync(log, `${test}\t${kind}\t${op}${(a[1] as { refresh?: boolean })?.refresh ? "-refresh" : ""}\t${Date.now() - t}\n`);
      }
    };
  return {
    up: wrap("up", (p: () => unknown, o?: { refresh?: boolean }) => engine.up(p, o)),
    preview: wrap("preview", (p: () => unknown, o?: { refresh?: boolean }) => engine.preview(p, o)),
    refresh: wrap("refresh", () => engine.refresh()),
    destroy: wrap("destroy", () => engine.destroy()),
    state: () => engine.state(),
    storedText: () => engine.storedText(),
  };
}
