/**
 * The one `setMocks` set-up of the unit tests: every resource a component registers is recorded
 * (type, name, inputs) and echoed back as its state, so a test asserts what the component hands
 * the engine. Call `mockPulumi()` at the top of a describe block (or file).
 */
import * as pulumi from "@pulumi/pulumi";

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
