/**
 * Kind: one managed file on a host (content, mode, owner). Optionally checked by a command
 * before it goes live (the daemon's own parser) and followed by a reload command, run only
 * when the content changed.
 */
import { Host } from "../../core/connection";
import { HostKind } from "../../core/hostKind";
import { FileState, normMode, probeFile } from "../../core/configFile";
import { MANAGED_FILE_DEFAULTS, ManagedFileSpec, validateManagedFile } from "./managedFileArgs";

export type { ManagedFileSpec } from "./managedFileArgs";

/** What is observed of a managed file on the host. */
export type ManagedFileState = FileState;

/** Write `content` to `path` if it differs, after `checkCommand` accepted a candidate copy. Returns whether it changed. */
export async function writeCheckedFile(host: Host, spec: ManagedFileSpec, live: ManagedFileState | undefined): Promise<boolean> {
  const mode = normMode(spec.mode);
  const same = live && live.content === spec.content;
  if (spec.checkCommand && !same) {
    const candidate = `${spec.path}.kvmshare-check`;
    await host.writeFileAtomic(candidate, spec.content, { mode });
    try {
      await host.run(spec.checkCommand.map((a) => (a === "{}" ? candidate : a)));
    } finally {
      await host.removeFile(candidate);
    }
  }
  if (!same || live.mode !== mode || (spec.owner && live.owner !== spec.owner) || (spec.group && live.group !== spec.group)) {
    await host.writeFileAtomic(spec.path, spec.content, { mode, owner: spec.owner, group: spec.group });
  }
  return !same;
}

export const kind: HostKind<ManagedFileSpec, ManagedFileState> = {
  name: "ManagedFile",
  version: 1,
  validate: (spec) => validateManagedFile(spec),
  render: (spec) => {
    const s: ManagedFileState = { content: spec.content, mode: normMode(spec.mode) };
    if (spec.owner) s.owner = spec.owner;
    if (spec.group) s.group = spec.group;
    return s;
  },
  probe: (host, spec) => probeFile(host, spec.path),
  compare: (desired, observed) => {
    return (Object.keys(desired) as (keyof ManagedFileState)[]).filter((k) => desired[k] !== observed[k]);
  },
  project: (spec, observed) => ({ ...spec, content: observed.content, mode: observed.mode }),
  async apply(host, { spec, live, previous, log }) {
    if (previous && previous.spec.path !== spec.path) await host.removeFile(previous.spec.path);
    const changed = await writeCheckedFile(host, spec, live);
    if (changed) {
      log(`wrote ${spec.path} on ${host.label}`);
      if (spec.reloadCommand) await host.run(spec.reloadCommand);
    }
  },
  async remove(host, spec, _observed, log) {
    if (await host.removeFile(spec.path)) log(`removed ${spec.path} on ${host.label}`);
    if (spec.removeCommand) await host.run(spec.removeCommand);
  },
};
