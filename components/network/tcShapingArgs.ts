/**
 * tc shaping's arguments (`NetworkTuningArgs.shaping`), declared once: `TbfArgs`, `HtbArgs`
 * and `HtbClassArgs`, their defaults, the resolved shapes the TcShaping kind receives (derived
 * from them) and `resolveShaping`, which fills the defaults. Validation is the kind's
 * (`validateShaping` in tcShapingKind.ts).
 */
import { Defaults, Resolved } from "../../core/args";

/** Shape everything leaving `device` to one rate (tc tbf). Runtime only (see `bootUnit`). */
export interface TbfArgs {
  /** `"tbf"`: one token bucket for all traffic. */
  kind: "tbf";
  /** Rate everything leaving the device is capped to, in Mbit/s. */
  rateMbit: number;
  /** Bucket size in KiB (must hold at least rate × one timer tick). @default max(32, 1.25 × rateMbit), ~10 ms of traffic at the rate */
  burstKiB?: number;
  /** How long a packet may wait in the bucket before it is dropped, in ms. @default 50 */
  latencyMs?: number;
}

/** One htb class: a guaranteed rate for the traffic its filters select. */
export interface HtbClassArgs {
  /** Class number 2-65535 (tc shows it in hex: 16 is `1:10`). */
  id: number;
  /** Guaranteed rate, Mbit/s. */
  rateMbit: number;
  /** Rate it may borrow up to, in Mbit/s (≤ the root rate). @default the root rateMbit */
  ceilMbit?: number;
  /** Priority when borrowing, 0 (served first) - 7. @default 0 */
  prio?: number;
  /** IPv4 destinations (addresses/CIDRs, e.g. a guest's address) whose traffic goes to this class. @default [] (none) @fieldKind free */
  matchDst?: string[];
  /** IPv4 sources whose traffic goes to this class. @default [] (none) @fieldKind free */
  matchSrc?: string[];
}

/** Split `rateMbit` into classes for guest traffic (tc htb + u32 filters). Runtime only. */
export interface HtbArgs {
  /** `"htb"`: a root rate split into classes. */
  kind: "htb";
  /** Total rate of the device (root class 1:1), in Mbit/s. */
  rateMbit: number;
  /** The classes, each with the addresses sorted into it. */
  classes: HtbClassArgs[];
  /** Class id for traffic no filter matched. @default the last class */
  defaultClass?: number;
}

export type ShapingArgs = TbfArgs | HtbArgs;

/** ~10 ms of traffic at `rateMbit` (at least 32 KiB, at most tbf's 1 GiB bucket); 32 for an invalid rate. */
export function defaultBurstKiB(rateMbit: unknown): number {
  if (typeof rateMbit !== "number" || !Number.isFinite(rateMbit) || rateMbit <= 0) return 32;
  return Math.min(1_048_576, Math.max(32, Math.ceil(rateMbit * 1.25)));
}

/** tbf's defaults that do not depend on the rate (`burstKiB` does). */
export const TBF_DEFAULTS: Defaults<TbfArgs, "burstKiB"> = { latencyMs: 50 };
/** An htb class's defaults that do not depend on the root (`ceilMbit` does). */
export const HTB_CLASS_DEFAULTS: Defaults<HtbClassArgs, "ceilMbit"> = { prio: 0, matchDst: [], matchSrc: [] };

/** tbf as the kind applies it: every default filled in. */
export type TbfShaping = Resolved<TbfArgs>;
/** An htb class as the kind applies it. */
export type HtbClass = Resolved<HtbClassArgs>;
/** htb as the kind applies it. */
export type HtbShaping = Resolved<Omit<HtbArgs, "classes">> & { classes: HtbClass[] };
export type Shaping = TbfShaping | HtbShaping;

/** Every default filled in; values are checked by `validateShaping`. */
export function resolveShaping(sh: ShapingArgs): Shaping {
  if (sh.kind === "tbf") {
    return {
      kind: "tbf",
      rateMbit: sh.rateMbit,
      // The default follows a valid rate; a bad rate is reported against rateMbit alone, never
      // against a burstKiB the user did not set.
      burstKiB: sh.burstKiB ?? defaultBurstKiB(sh.rateMbit),
      latencyMs: sh.latencyMs ?? TBF_DEFAULTS.latencyMs,
    };
  }
  if (sh.kind !== "htb") return { ...(sh as object) } as Shaping; // unknown kind: validateShaping names it
  const classes: HtbClass[] = (Array.isArray(sh.classes) ? sh.classes : []).map((k) => ({
    id: k.id,
    rateMbit: k.rateMbit,
    ceilMbit: k.ceilMbit ?? sh.rateMbit,
    prio: k.prio ?? HTB_CLASS_DEFAULTS.prio,
    matchDst: k.matchDst ?? [...HTB_CLASS_DEFAULTS.matchDst],
    matchSrc: k.matchSrc ?? [...HTB_CLASS_DEFAULTS.matchSrc],
  }));
  return { kind: "htb", rateMbit: sh.rateMbit, classes, defaultClass: sh.defaultClass ?? classes[classes.length - 1]?.id ?? 0 };
}
