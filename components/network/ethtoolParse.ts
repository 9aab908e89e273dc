/**
 * Reading `ethtool -k/-g/-l/-c` text (ethtool 6.1 has `--json` for few of them) and the names
 * users write: `ethtool -K` takes short aliases (tso, gro, ...) that `ethtool -k` prints in
 * long form (tcp-segmentation-offload, generic-receive-offload, ...).
 */

/** Short `-K` aliases and the name `ethtool -k` shows for them. */
export const OFFLOAD_ALIASES: Record<string, string> = {
  rx: "rx-checksumming",
  tx: "tx-checksumming",
  sg: "scatter-gather",
  tso: "tcp-segmentation-offload",
  ufo: "udp-fragmentation-offload",
  gso: "generic-segmentation-offload",
  gro: "generic-receive-offload",
  lro: "large-receive-offload",
  rxvlan: "rx-vlan-offload",
  txvlan: "tx-vlan-offload",
  ntuple: "ntuple-filters",
  rxhash: "receive-hashing",
};

/** The `ethtool -k` name of an offload given as an alias or a feature name. */
export function offloadName(name: string): string {
  return OFFLOAD_ALIASES[name] ?? name;
}

export interface Feature {
  on: boolean;
  fixed: boolean;
}

/** `ethtool -k` -> feature name -> { on, fixed }. */
export function parseFeatures(text: string): Record<string, Feature> {
  const out: Record<string, Feature> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([a-z0-9-]+): (on|off)( \[fixed\]| \[requested (?:on|off)\])?/.exec(line);
    if (m) out[m[1]] = { on: m[2] === "on", fixed: m[3] === " [fixed]" };
  }
  return out;
}

const RING_LABELS: Record<string, string> = { RX: "rx", "RX Mini": "rx-mini", "RX Jumbo": "rx-jumbo", TX: "tx" };
const CHANNEL_LABELS: Record<string, string> = { RX: "rx", TX: "tx", Other: "other", Combined: "combined" };

export interface Limits {
  /** Pre-set maximums (`undefined`: n/a). */
  max: Record<string, number>;
  current: Record<string, number>;
}

function parseTwoSections(text: string, labels: Record<string, string>): Limits {
  const out: Limits = { max: {}, current: {} };
  let section: "max" | "current" | undefined;
  for (const line of text.split("\n")) {
    if (/^Pre-set maximums/i.test(line)) section = "max";
    else if (/^Current hardware settings/i.test(line)) section = "current";
    else if (section) {
      const m = /^([A-Za-z ]+):\s+(\S+)/.exec(line);
      if (m && labels[m[1].trim()] && /^\d+$/.test(m[2])) out[section][labels[m[1].trim()]] = Number(m[2]);
    }
  }
  return out;
}

/** `ethtool -g` (rings). */
export const parseRings = (text: string) => parseTwoSections(text, RING_LABELS);
/** `ethtool -l` (channels). */
export const parseChannels = (text: string) => parseTwoSections(text, CHANNEL_LABELS);

/** `ethtool -c` -> `-C` parameter name -> number (adaptive-rx/tx as 1/0). */
export function parseCoalesce(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const a = /^Adaptive RX:\s*(on|off|n\/a)\s+TX:\s*(on|off|n\/a)/.exec(line);
    if (a) {
      if (a[1] !== "n/a") out["adaptive-rx"] = a[1] === "on" ? 1 : 0;
      if (a[2] !== "n/a") out["adaptive-tx"] = a[2] === "on" ? 1 : 0;
      continue;
    }
    const m = /^([a-z0-9-]+):\s+(\d+)\s*$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** True when ethtool's failure means "the driver cannot do this" rather than a real error. */
export function isUnsupported(stderr: string): boolean {
  return /Operation not supported|not supported|Cannot get device .* settings/i.test(stderr);
}
