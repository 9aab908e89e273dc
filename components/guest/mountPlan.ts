/**
 * The files a GuestMount spec becomes (pure): unit names, unit files or the fstab block, the
 * credentials file, and the systemctl argv. Everything is rendered from templates/.
 */
import * as path from "path";
import { render } from "../../core/render";
import type { Activation } from "../../core/systemdUnits";
import { OptionValue } from "./mountOptions";
import { CREDENTIALS_DIR, GuestMountSpec, mountType, MountType, ResolvedGuestMount, resolveGuestMount } from "./guestMountArgs";
import { escapePath, simplifyPath } from "./systemdEscape";

/** Per-type facts: the filesystem type systemd/mount use and whether it needs the network. */
export const TYPE_FACTS: Record<MountType, { fsType: string; network: boolean; wantedBy: string }> = {
  nfs: { fsType: "nfs", network: true, wantedBy: "remote-fs.target" },
  smb: { fsType: "cifs", network: true, wantedBy: "remote-fs.target" },
  virtiofs: { fsType: "virtiofs", network: false, wantedBy: "local-fs.target" },
  "9p": { fsType: "9p", network: false, wantedBy: "local-fs.target" },
};

export interface MountPlan {
  type: MountType;
  /** Mount point, simplified as systemd sees it. */
  where: string;
  /** `What=`: `server:/path`, `//server/share` or the tag. */
  what: string;
  fsType: string;
  options: string[];
  mountUnit: string;
  automountUnit?: string;
  /** The unit to enable/start: the automount one when automount. */
  primaryUnit: string;
  style: "systemd" | "fstab";
  activation: Activation;
  root: string;
  /** Unit files (systemd style): name -> { host path, content }. */
  units: Record<string, { path: string; content: string }>;
  /** fstab style: the managed block and the file it lives in (host path). */
  fstab?: { path: string; block: string; begin: string; end: string };
  /** SMB: the credentials file (host path for writing; `path` is what the guest mount reads). */
  credentials?: { path: string; hostPath: string; content: string };
  /** `systemctl` argv prefix (`--root=` when an alternate root). */
  systemctl: string[];
  verify: boolean;
}

/** A path below the alternate root (`/` = the host itself). */
export function underRoot(root: string, p: string): string {
  return root === "/" ? p : path.posix.join(root, p);
}

/** `%` starts a specifier in unit files; `%%` is a literal percent sign. */
function unitValue(v: string): string {
  return v.replace(/%/g, "%%");
}

/** fstab fields are separated by whitespace; octal escapes as getmntent(3) reads them. */
export function fstabEscape(v: string): string {
  return v.replace(/\\/g, "\\134").replace(/ /g, "\\040").replace(/\t/g, "\\011");
}

/** The source of the mount as mount(8) takes it. */
export function mountSource(spec: Pick<GuestMountSpec, "nfs" | "smb" | "virtiofs" | "ninep">): string {
  if (spec.nfs) {
    const host = spec.nfs.server.includes(":") ? `[${spec.nfs.server}]` : spec.nfs.server;
    return `${host}:${spec.nfs.exportPath}`;
  }
  if (spec.smb) return `//${spec.smb.server}/${spec.smb.share}`;
  if (spec.virtiofs) return spec.virtiofs.tag;
  if (spec.ninep) return spec.ninep.tag;
  throw new Error("GuestMount: set exactly one of nfs, smb, virtiofs or ninep");
}

/** Names the component can show before anything runs. */
export function unitNames(where: string, automount = false): { mountUnit: string; automountUnit?: string; primaryUnit: string } {
  const base = escapePath(where);
  const mountUnit = `${base}.mount`;
  const automountUnit = automount ? `${base}.automount` : undefined;
  return { mountUnit, automountUnit, primaryUnit: automountUnit ?? mountUnit };
}

function fmt(key: string, value: OptionValue): string {
  return value === true ? key : `${key}=${value}`;
}

/**
 * The mount options a spec renders to, in a stable order: typed fields (defaults filled in), then
 * `options` in the order given. `credentialsFile` is the resolved path for SMB.
 */
export function renderOptions(given: GuestMountSpec, credentialsFile?: string): string[] {
  const spec = resolveGuestMount(given);
  const out: string[] = [];
  if (spec.nfs) {
    const n = spec.nfs;
    out.push(`vers=${n.version}`);
    if (n.nconnect !== undefined) out.push(`nconnect=${n.nconnect}`);
    if (n.rsizeBytes !== undefined) out.push(`rsize=${n.rsizeBytes}`);
    if (n.wsizeBytes !== undefined) out.push(`wsize=${n.wsizeBytes}`);
    out.push(n.hard === false ? "soft" : "hard");
    out.push(`timeo=${n.timeoDeciseconds}`, `retrans=${n.retrans}`, `sec=${n.sec}`);
    if (n.port !== undefined) out.push(`port=${n.port}`);
    if (n.xprtsec !== undefined) out.push(`xprtsec=${n.xprtsec}`);
  } else if (spec.smb) {
    const s = spec.smb;
    out.push(`vers=${s.version}`);
    if (s.seal !== false) out.push("seal");
    out.push(`credentials=${credentialsFile}`);
    if (s.port !== undefined) out.push(`port=${s.port}`);
    if (s.uid !== undefined) out.push(`uid=${s.uid}`);
    if (s.gid !== undefined) out.push(`gid=${s.gid}`);
    if (s.fileMode !== undefined) out.push(`file_mode=${s.fileMode}`);
    if (s.dirMode !== undefined) out.push(`dir_mode=${s.dirMode}`);
  } else if (spec.ninep) {
    const p = spec.ninep;
    out.push("trans=virtio", `version=${p.version}`, `msize=${p.msizeBytes}`, `cache=${p.cache}`);
  }
  if (spec.readOnly) out.push("ro");
  const have = new Set(out.map((o) => o.split("=")[0]));
  for (const [k, v] of Object.entries(spec.options)) if (v !== false && !have.has(k)) out.push(fmt(k, v));
  return out;
}

/** Resolve defaults and render every file (pure). `secrets.password` is needed for SMB. */
export function planGuestMount(given: GuestMountSpec, secrets: Record<string, string> = {}): MountPlan {
  const type = mountType(given);
  if (!type) throw new Error("GuestMount: set exactly one of nfs, smb, virtiofs or ninep");
  const spec: ResolvedGuestMount = resolveGuestMount(given);
  const facts = TYPE_FACTS[type];
  const where = simplifyPath(spec.where);
  const root = spec.root;
  const style = spec.style;
  const automount = spec.automount === true;
  const { mountUnit, automountUnit, primaryUnit } = unitNames(where, automount);
  const what = mountSource(spec);
  let credentials: MountPlan["credentials"];
  if (spec.smb) {
    const credPath = spec.smb.credentialsFile ?? `${CREDENTIALS_DIR}/${escapePath(where).replace(/\\/g, "_")}.cred`;
    credentials = {
      path: credPath,
      hostPath: underRoot(root, credPath),
      content: render("cifs-credentials.hbs", {
        username: spec.smb.username,
        password: secrets.password ?? "",
        domain: spec.smb.domain ? [spec.smb.domain] : [],
      }),
    };
  }
  const options = renderOptions(given, credentials?.path);
  const description = spec.description ?? `kvmshare ${type} mount of ${what}`;
  const plan: MountPlan = {
    type,
    where,
    what,
    fsType: facts.fsType,
    options,
    mountUnit,
    automountUnit,
    primaryUnit,
    style,
    activation: spec.activation,
    root,
    units: {},
    systemctl: root === "/" ? ["systemctl"] : ["systemctl", `--root=${root}`],
    verify: spec.verify,
    credentials,
  };
  const idleSec = spec.automountIdleSec;
  if (style === "systemd") {
    const unitDir = spec.unitDir;
    plan.units[mountUnit] = {
      path: underRoot(root, path.posix.join(unitDir, mountUnit)),
      content: render("systemd-mount.hbs", {
        description: unitValue(description),
        networkTargets: facts.network ? ["network-online.target"] : [],
        what: unitValue(what),
        where: unitValue(where),
        type: facts.fsType,
        options: unitValue(options.join(",")),
        timeoutSec: spec.timeoutSec,
        install: automount ? [] : [facts.wantedBy],
      }),
    };
    if (automountUnit) {
      plan.units[automountUnit] = {
        path: underRoot(root, path.posix.join(unitDir, automountUnit)),
        content: render("systemd-automount.hbs", {
          description: unitValue(description),
          where: unitValue(where),
          idleSec,
          wantedBy: facts.wantedBy,
        }),
      };
    }
  } else {
    const fstabOptions = [...options];
    if (facts.network) fstabOptions.push("_netdev");
    if (automount) fstabOptions.push("x-systemd.automount", `x-systemd.idle-timeout=${idleSec}`);
    fstabOptions.push(`x-systemd.mount-timeout=${spec.timeoutSec}`);
    const block = render("fstab-entry.hbs", {
      unit: mountUnit,
      what: fstabEscape(what),
      where: fstabEscape(where),
      type: facts.fsType,
      options: fstabEscape(fstabOptions.join(",")),
    });
    plan.fstab = {
      path: underRoot(root, spec.fstabPath),
      block,
      begin: `# kvmshare begin ${mountUnit} `,
      end: `# kvmshare end ${mountUnit}`,
    };
  }
  return plan;
}

/** Replace (or append) the managed block for one unit in an fstab's text. */
export function spliceFstab(text: string, plan: NonNullable<MountPlan["fstab"]>, block: string | undefined): string {
  const existing = extractFstabBlock(text, plan);
  const base = text.length && !text.endsWith("\n") ? text + "\n" : text;
  if (existing === undefined) return block === undefined ? text : base + block;
  return text.replace(existing, block ?? "");
}

/** The managed block for this unit in an fstab's text, or undefined. */
export function extractFstabBlock(text: string, plan: Pick<NonNullable<MountPlan["fstab"]>, "begin" | "end">): string | undefined {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(plan.begin));
  if (start < 0) return undefined;
  const stop = lines.findIndex((l, i) => i > start && l.trim() === plan.end);
  const endIdx = stop < 0 ? lines.length - 1 : stop;
  return lines.slice(start, endIdx + 1).join("\n") + (endIdx < lines.length - 1 ? "\n" : "");
}
