/**
 * Kind: the MTU of one interface (jumbo frames). Checked against the device's own limits
 * (`ip -j -d link` min_mtu/max_mtu) before anything changes, set with `ip link set mtu`,
 * read back. Removing it puts back the MTU found before the first apply.
 */
import { Problem } from "../../core/errors";
import { HostKind } from "../../core/hostKind";
import { Checker } from "../../core/validate";
import { checkDevice, checkTarget, DeviceTarget, deviceKind, devicePreflight, LinkInfo, linkInfo, originalsPath, readOriginals, recordOriginals, runIn, where } from "./netHost";

export interface LinkMtuSpec extends DeviceTarget {
  /** Bytes of IP payload per frame (1500 standard, 9000 jumbo). */
  mtu: number;
}

export type LinkMtuState = { mtu: number };

export function mtuArgv(device: string, mtu: number): string[] {
  return ["ip", "link", "set", "dev", device, "mtu", String(mtu)];
}

export function validateLinkMtu(spec: LinkMtuSpec, prefix = ""): Problem[] {
  const c = new Checker("LinkMtu");
  checkDevice(c, `${prefix}device`, spec.device);
  checkTarget(c, prefix, spec);
  // IPv4's minimum (68) to ETH_MAX_MTU (65535), what Linux accepts on Ethernet-like links
  // (veth, bridges, virtio-net, tap); loopback alone goes to 65536. The device's own
  // min_mtu/max_mtu (`ip -d -j link`) are checked in preflight.
  const max = spec.device === "lo" ? 65536 : 65535;
  c.int(`${prefix}mtu`, spec.mtu, 68, max, "1500 is standard Ethernet, 9000 jumbo frames; every hop must agree; the device's max_mtu is checked on the host");
  return c.problems;
}

function boundsProblem(spec: LinkMtuSpec, info: LinkInfo, at: string): string | undefined {
  // max_mtu 0 means the driver sets no limit.
  if (info.maxMtu && spec.mtu > info.maxMtu) {
    return `is more than ${spec.device} on ${at} allows (max_mtu ${info.maxMtu}); use at most ${info.maxMtu}`;
  }
  if (info.minMtu && spec.mtu < info.minMtu) {
    return `is less than ${spec.device} on ${at} allows (min_mtu ${info.minMtu})`;
  }
  return undefined;
}

export const kind: HostKind<LinkMtuSpec, LinkMtuState> = {
  ...deviceKind("LinkMtu", (spec: LinkMtuSpec) => validateLinkMtu(spec)),

  preflight: (host, spec) =>
    devicePreflight(host, spec, () => linkInfo(host, spec.netns, spec.device), (info, at) => {
      const p = boundsProblem(spec, info, at);
      return p ? [{ field: "mtu", value: spec.mtu, message: p }] : [];
    }),

  render: (spec) => ({ mtu: spec.mtu }),

  async probe(host, spec) {
    const info = await linkInfo(host, spec.netns, spec.device);
    return info ? { mtu: info.mtu } : undefined;
  },

  project: (spec, observed) => ({ ...spec, mtu: observed.mtu }),
  outputs: (_spec, observed) => ({ mtu: observed?.mtu ?? null }),

  async apply(host, { spec, live, log }) {
    const at = where(host, spec.netns);
    const info = await linkInfo(host, spec.netns, spec.device);
    if (!info) throw new Error(`device: no network interface '${spec.device}' on ${at}`);
    const p = boundsProblem(spec, info, at);
    if (p) throw new Error(`mtu: ${spec.mtu} ${p}`);
    await recordOriginals(host, originalsPath(spec.stateDir, "mtu", spec.netns, spec.device), { mtu: info.mtu });
    if (live?.mtu !== spec.mtu || info.mtu !== spec.mtu) {
      await runIn(host, spec.netns, mtuArgv(spec.device, spec.mtu));
      log(`${spec.device} mtu ${info.mtu} -> ${spec.mtu} on ${at}`);
    }
    const after = await linkInfo(host, spec.netns, spec.device);
    if (after?.mtu !== spec.mtu) {
      throw new Error(`mtu: ${spec.device} on ${at} has mtu ${after?.mtu ?? "(gone)"} after setting ${spec.mtu}`);
    }
  },

  async remove(host, spec, _observed, log) {
    const file = originalsPath(spec.stateDir, "mtu", spec.netns, spec.device);
    const orig = (await readOriginals<number>(host, file)).mtu;
    const info = await linkInfo(host, spec.netns, spec.device);
    if (spec.restoreOnRemove && orig !== undefined && info && info.mtu !== orig) {
      await runIn(host, spec.netns, mtuArgv(spec.device, orig));
      log(`${spec.device} mtu back to ${orig} on ${where(host, spec.netns)}`);
    }
    await host.removeFile(file);
  },
};
