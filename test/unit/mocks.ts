/**
 * The one `setMocks` set-up of the unit tests: every resource a component registers is recorded
 * (type, name, inputs) and echoed back as its state, so a test asserts what the component hands
 * the engine. Call `mockPulumi()` at the top of a describe block (or file).
 */
import * as pulumi from "@pulumi/pulumi";
import { Host, RunOptions, RunResult } from "../../core/connection";

export interface Mocked {
  /** Every resource registered since the mocks were installed, in order. */
  registered: pulumi.runtime.MockResourceArgs[];
  /** The registered resource named `name` (throws when there is none, naming the ones there are). */
  byName(name: string): pulumi.runtime.MockResourceArgs;
}

export interface MockOptions {
  /** Run as a preview (dry run). @default false */
  preview?: boolean;
  /** Extra state a resource reports back (e.g. a dataset's mountpoint). @default none */
  extraState?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
}

/** Install the mocks in a `beforeAll` and return the record of registrations. */
export function mockPulumi(opts: MockOptions = {}): Mocked {
  const registered: pulumi.runtime.MockResourceArgs[] = [];
  beforeAll(() =>
    pulumi.runtime.setMocks({
      newResource: (args) => {
        registered.push(args);
        return { id: `${args.name}-id`, state: { ...args.inputs, ...opts.extraState?.(args) } };
      },
      call: (args) => args.inputs,
    }, "project", "stack", opts.preview ?? false),
  );
  return {
    registered,
    byName(name) {
      const r = registered.find((a) => a.name === name);
      if (!r) throw new Error(`no resource named ${name}; registered: ${registered.map((a) => a.name).join(", ")}`);
      return r;
    },
  };
}

/** The value of an Output, once known. */
export function resolved<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((r) => o.apply((v) => r(v)));
}

/** A secret's plain value as the mocks record it (`{ value }` wrappers unwrapped). */
export const unwrapSecret = (v: unknown): unknown =>
  v && typeof v === "object" && "value" in (v as Record<string, unknown>) ? (v as { value: unknown }).value : v;

/**
 * A host whose commands answer from a handler; files in a map (with the modes they were written
 * with: `stat -c '%a %U %G'` answers from them when the handler does not).
 */
export class FakeHost implements Host {
  readonly label = "fake";
  readonly calls: { argv: string[]; env?: Record<string, string> }[] = [];
  readonly modes: Record<string, string> = {};
  constructor(public files: Record<string, string>, private handler: (argv: string[]) => Partial<RunResult> | undefined) {}
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], env: opts.env });
    const stat = argv[0] === "stat" && argv[argv.length - 1] in this.files ? { stdout: `${(this.modes[argv[argv.length - 1]] ?? "0644").replace(/^0/, "")} root root\n` } : {};
    const r = { stdout: "", stderr: "", code: 0, ...(this.handler([...argv]) ?? stat) };
    if (r.code !== 0 && opts.check !== false) throw new Error(`exit ${r.code}: ${argv.join(" ")}\n${r.stderr}`);
    return r;
  }
  async readFile(p: string) {
    return this.files[p];
  }
  async writeFileAtomic(p: string, c: string | Buffer, opts: { mode?: string } = {}) {
    this.files[p] = c.toString();
    this.modes[p] = opts.mode ?? "0644";
  }
  async removeFile(p: string) {
    const had = p in this.files;
    delete this.files[p];
    return had;
  }
  async close() {}
}
