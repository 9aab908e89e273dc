/**
 * One declaration per field. A component declares its fields once, documented, in its
 * `XxxArgs` interface (`xxxArgs.ts`); the other shapes are derived from it here:
 *
 * - `Plain<A>`: the values once every `pulumi.Input` is known (what validation reads);
 * - `Resolved<A>`: every optional field filled with its default (what a host kind receives);
 * - `resolveDefaults(plain, defaults)`: fills them from the component's one defaults table.
 *
 * Adding a field is then one edit to the Args interface (plus its default, validation and
 * render), never a second copy of the field list.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The plain value of an input (`pulumi.Input<T>` -> `T`), one level deep. */
export type PlainValue<T> = T extends pulumi.OutputInstance<infer U> ? U : T extends Promise<infer U> ? U : T;

/** Args with every `pulumi.Input<T>` field as its plain `T` (the optional marks kept). */
export type Plain<A> = { [K in keyof A]: PlainValue<A[K]> };

/** Every field present and defined (defaults resolved); `Keep` stays optional (no default). */
export type Resolved<A, Keep extends keyof A = never> = { [K in Exclude<keyof A, Keep>]-?: Exclude<A[K], undefined> } & {
  [K in Keep]?: A[K];
};

/** The defaults of the optional fields that have one (`undefined` never counts as a value). */
export type Defaults<A, Keep extends keyof A = never> = {
  [K in Exclude<keyof A, Keep> as undefined extends A[K] ? K : never]-?: Exclude<A[K], undefined>;
};

/**
 * `plain` with every undefined field that has a default taken from `defaults`. Fields in
 * neither stay as given (required fields are the caller's to check).
 */
export function resolveDefaults<A extends object, Keep extends keyof A = never>(
  plain: A,
  defaults: Defaults<A, Keep>,
): Resolved<A, Keep> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(defaults)) out[k] = Array.isArray(v) ? [...v] : v && typeof v === "object" ? { ...v } : v;
  // `null` counts as unset, as `??` did (JavaScript callers may pass it).
  for (const [k, v] of Object.entries(plain)) if (v !== undefined && v !== null) out[k] = v;
  return out as Resolved<A, Keep>;
}
