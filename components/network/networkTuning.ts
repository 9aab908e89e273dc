import * as pulumi from "@pulumi/pulumi";
import { Component } from "../../core/component";
import { ValidationError } from "../../core/errors";
import { ManagedFile } from "../files";
import { NetworkTuningArgs, resolveNetworkTuning } from "./networkTuningArgs";
import { EthtoolSettings, LinkMtu, SysctlProfile, TcShaping } from "./resources";

// Removing the unit also removes the link `systemctl enable` made (constant script, path as $1).
const UNLINK = 'rm -f -- "$1"; systemctl daemon-reload 2>/dev/null || true';
// systemd's own parser checks the candidate unit; it needs a file named like the unit ($2).
const VERIFY_UNIT = 'd=$(mktemp -d) && cp -- "$1" "$d/$2" && systemd-analyze verify "$d/$2"; rc=$?; rm -rf -- "$d"; exit $rc';

/**
 * Network tuning of one host (and one of its interfaces): sysctls (BBR, buffers, backlog),
 * MTU, tc shaping and ethtool settings, each applied, read back, and reported as drift after
 * a hand change. Every command can run inside a network namespace (`netns`).
 */
export class NetworkTuning extends Component<NetworkTuning> {
  /** The sysctl profile, when `sysctl` is set. */
  public readonly sysctlProfile?: SysctlProfile;
  public readonly linkMtu?: LinkMtu;
  public readonly tcShaping?: TcShaping;
  public readonly ethtoolSettings?: EthtoolSettings;
  public readonly bootUnit?: ManagedFile;
  /** Path of the sysctl.d file (undefined without `sysctl`). */
  declare public readonly sysctlPath: pulumi.Output<string | undefined>;
  /** The sysctl values as read back from the kernel. */
  declare public readonly sysctlValues: pulumi.Output<Record<string, string | null> | undefined>;
  /** The MTU read back from the device. */
  declare public readonly mtu: pulumi.Output<number | undefined>;
  /** The root qdisc kind read back from the device. */
  declare public readonly qdisc: pulumi.Output<string | undefined>;

  constructor(name: string, args: NetworkTuningArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("kvmshare:network:NetworkTuning", name, opts);
    const { problems, resolved } = resolveNetworkTuning(name, args);
    if (problems.length) throw new ValidationError(`NetworkTuning ${name}`, problems);

    const connection = args.connection;
    const parent = { parent: this };
    let last: pulumi.Resource | undefined;
    const after = () => (last ? { ...parent, dependsOn: [last] } : parent);
    if (resolved.sysctl) this.sysctlProfile = new SysctlProfile(`${name}-sysctl`, { connection, spec: resolved.sysctl }, parent);
    // One device, one change at a time: MTU, then ethtool (channel changes can reset queues), then the qdisc.
    if (resolved.mtu) last = this.linkMtu = new LinkMtu(`${name}-mtu`, { connection, spec: resolved.mtu }, after());
    if (resolved.ethtool) last = this.ethtoolSettings = new EthtoolSettings(`${name}-ethtool`, { connection, spec: resolved.ethtool }, after());
    if (resolved.shaping) last = this.tcShaping = new TcShaping(`${name}-shaping`, { connection, spec: resolved.shaping }, after());
    if (resolved.bootUnit) {
      const u = resolved.bootUnit;
      this.bootUnit = new ManagedFile(
        `${name}-boot-unit`,
        {
          connection,
          file: {
            path: u.path,
            content: u.content,
            mode: "0644",
            checkCommand: ["sh", "-c", VERIFY_UNIT, "sh", "{}", u.unitName],
            ...(u.enable ? { reloadCommand: ["systemctl", "enable", u.unitName], removeCommand: ["sh", "-c", UNLINK, "sh", u.wantsLink] } : {}),
          },
        },
        parent,
      );
    }

    this.publish({
      sysctlPath: pulumi.output(this.sysctlProfile?.path),
      sysctlValues: this.sysctlProfile ? this.sysctlProfile.values.apply((v) => v ?? undefined) : pulumi.output(undefined),
      mtu: this.linkMtu ? this.linkMtu.mtu.apply((v) => v ?? undefined) : pulumi.output(undefined),
      qdisc: this.tcShaping ? this.tcShaping.qdisc.apply((v) => v ?? undefined) : pulumi.output(undefined),
    });
  }
}
