/** Helpers for validating component args whose fields may be `pulumi.Input`s. */
import * as pulumi from "@pulumi/pulumi";
import { UNKNOWN } from "../../core/validate";

/** Every field of T may be an Input. */
export type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

function isPlain(v: unknown): boolean {
  return !(pulumi.Output.isInstance(v) || (v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function"));
}

/**
 * A copy of `v` in which values not known at construction (Outputs, Promises) are the
 * preview-time UNKNOWN marker, so the pure validators check what is known now and skip the rest
 * (the provider's `check` sees the resolved values later).
 */
export function knownNow<T>(v: T): T {
  if (!isPlain(v)) return UNKNOWN as unknown as T;
  if (Array.isArray(v)) return v.map((x) => knownNow(x)) as unknown as T;
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, knownNow(x)])) as T;
  }
  return v;
}

/** True when `v` (deeply) holds no Output or Promise. */
export function isFullyKnown(v: unknown): boolean {
  if (!isPlain(v)) return false;
  if (Array.isArray(v)) return v.every(isFullyKnown);
  if (v !== null && typeof v === "object") return Object.values(v).every(isFullyKnown);
  return true;
}
