/**
 * The set-up a test file that stands stacks up repeats: a fresh temp directory made in
 * `beforeAll`, an engine with its state there, and what is cleaned up in `afterAll`.
 *
 *   const stack = useZfsStack("kvmshare-snap-", [pool]);
 *   it("...", async () => { const r = await stack.engine.up(program); ... path.join(stack.dir, "d0") ... });
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { acquireZfsFuse, cleanUpZfsTest, ZfsFuseLease } from "../fixtures/zfsFuse";
import { TestEngine, testEngine } from "./testEngine";

/** A test file's directory and engine, filled in by `beforeAll`. */
export interface TestStack<E> {
  readonly dir: string;
  readonly engine: E;
}

export interface TestStackHooks {
  /** Runs in `beforeAll` before the directory is made (e.g. acquiring a daemon). */
  before?: () => Promise<void>;
  /** The `afterAll`, given the directory (undefined when `beforeAll` failed first). @default remove the directory */
  after?: (dir: string | undefined) => Promise<void>;
}

/** A fresh `os.tmpdir()/<prefix>XXXXXX` and `engine(<dir>/state.json)`, made in `beforeAll`. */
export function useTestStack<E>(prefix: string, engine: (stateFile: string) => E, hooks: TestStackHooks = {}): TestStack<E> {
  let dir: string | undefined;
  let made: E | undefined;
  beforeAll(async () => {
    await hooks.before?.();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made = engine(path.join(dir, "state.json"));
  });
  afterAll(async () => {
    if (hooks.after) await hooks.after(dir);
    else if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return filled(dir, "test directory");
    },
    get engine() {
      return filled(made, "engine");
    },
  };
}

/**
 * A stack on zfs-fuse: a lease on the daemon, then the directory (the pools' file vdevs and
 * mountpoints go there) and the test engine; after, `cleanUpZfsTest` destroys `pools`, removes
 * the directory and gives the lease back.
 */
export function useZfsStack(prefix: string, pools: string[]): TestStack<TestEngine>;
/** The same with another engine (e.g. the in-process `Engine`, for a test that must call the provider itself). */
export function useZfsStack<E>(prefix: string, pools: string[], engine: (stateFile: string) => E): TestStack<E>;
export function useZfsStack(prefix: string, pools: string[], engine: (stateFile: string) => unknown = (stateFile) => testEngine({ stateFile })): TestStack<unknown> {
  let lease: ZfsFuseLease | undefined;
  return useTestStack(prefix, engine, {
    before: async () => {
      lease = await acquireZfsFuse();
    },
    after: (dir) => cleanUpZfsTest(lease, dir, pools),
  });
}

function filled<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no ${what} (see the beforeAll error above)`);
  return value;
}
