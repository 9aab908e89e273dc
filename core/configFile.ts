/**
 * Config files on a host as the file-backed kinds of every area observe and compare them.
 */
import * as path from "path";
import { Host } from "./connection";
import { parseMode } from "./validate";

/** What is observed of a file on the host. */
export type FileState = { content: string; mode: string; owner?: string; group?: string };

/** A mode as `stat` would print it with a leading 0 (`0644`); unset means 0644. */
export function normMode(mode: string | undefined): string {
  return "0" + (parseMode(mode ?? "0644") ?? 0o644).toString(8).padStart(3, "0");
}

/** Read a file's content, mode, owner and group; undefined when absent. */
export async function probeFile(host: Host, path: string): Promise<FileState | undefined> {
  const content = await host.readFile(path);
  if (content === undefined) return undefined;
  const st = await host.run(["stat", "-c", "%a %U %G", "--", path]);
  const [mode, owner, group] = st.stdout.trim().split(" ");
  return { content, mode: normMode(mode), owner, group };
}

/** A config file's observed state as the file-backed kinds keep it: content and mode. */
export type ConfigFileState = { content: string; mode: string };

/** `probe` of a kind whose whole state is one config file at `path`. */
export async function probeConfigFile(host: Host, path: string): Promise<ConfigFileState | undefined> {
  const f = await probeFile(host, path);
  return f ? { content: f.content, mode: f.mode } : undefined;
}

/** `compare` of such a kind: the content and the mode. */
export function compareConfigFile(desired: ConfigFileState, observed: ConfigFileState): string[] {
  return (["content", "mode"] as const).filter((k) => desired[k] !== observed[k]);
}

/**
 * `render`, `probe` and `compare` of a kind whose whole state is one config file, mode 0644, at
 * `pathOf(spec)` with the content `contentOf(spec)`: spread into the kind (`...configFileKind(...)`).
 */
export function configFileKind<Spec>(contentOf: (spec: Spec) => string, pathOf: (spec: Spec) => string) {
  return {
    render: (s: Spec): ConfigFileState => ({ content: contentOf(s), mode: "0644" }),
    probe: (host: Host, s: Spec) => probeConfigFile(host, pathOf(s)),
    compare: compareConfigFile,
  };
}

/** Files by path. */
export type ConfigFiles = Record<string, ConfigFileState>;

/** What is on the host at each path (`null`: absent). */
export async function probeFiles(host: Host, paths: string[]): Promise<Record<string, ConfigFileState | null>> {
  const out: Record<string, ConfigFileState | null> = {};
  for (const p of paths) out[p] = (await probeConfigFile(host, p)) ?? null;
  return out;
}

/** The paths whose content or mode differ. */
export function changedFiles(desired: ConfigFiles, live: Record<string, ConfigFileState | null> | undefined): string[] {
  return Object.keys(desired).filter((p) => {
    const now = live?.[p];
    return !now || compareConfigFile(desired[p], now).length > 0;
  });
}

/** Write the files that changed (after `check` accepted each); returns the changed paths. */
export async function writeFiles(host: Host, desired: ConfigFiles, live: Record<string, ConfigFileState | null> | undefined, check?: (file: string, content: string) => Promise<void>): Promise<string[]> {
  const changed = changedFiles(desired, live);
  for (const p of changed) {
    if (check && live?.[p]?.content !== desired[p].content) await check(p, desired[p].content);
    await host.run(["mkdir", "-p", "--", path.posix.dirname(p)]);
    await host.writeFileAtomic(p, desired[p].content, { mode: desired[p].mode });
  }
  return changed;
}
