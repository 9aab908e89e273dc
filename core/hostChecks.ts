/** Small host probes the export kinds share (argv only; values as positional parameters). */
import { Host } from "./connection";
import { Problem } from "./errors";

/** Does the host have `cmd` on its PATH? */
export async function hasCommand(host: Host, cmd: string): Promise<boolean> {
  const r = await host.run(["sh", "-c", 'command -v -- "$1" >/dev/null 2>&1', "sh", cmd], { check: false });
  return r.code === 0;
}

/**
 * The problem of a command a kind needs that is not on the host's PATH (none when it is), on
 * `field` (with `value`): "<cmd> is not installed on <host>; install <install>".
 */
export async function commandProblems(host: Host, cmd: string, install: string, field = "check", value: unknown = true): Promise<Problem[]> {
  if (await hasCommand(host, cmd)) return [];
  return [{ field, value, message: `${cmd} is not installed on ${host.label}; install ${install}` }];
}

/**
 * What an export's preflight checks first: the shared directory `path` (field "path"), and, when
 * `server` is given (the spec's `check`), that the server's command is installed (`commandProblems`).
 */
export async function exportProblems(host: Host, path: string, server?: { cmd: string; install: string; field?: string; value?: unknown }): Promise<Problem[]> {
  const problems = await sharedDirectoryProblems(host, "path", path);
  if (server) problems.push(...(await commandProblems(host, server.cmd, server.install, server.field, server.value)));
  return problems;
}

/** `problem` when the shell test `test` (e.g. `command -v a && test -e /b`) fails on the host, none when it passes. */
export async function installedProblems(host: Host, test: string, problem: Problem): Promise<Problem[]> {
  return (await host.run(["sh", "-c", test], { check: false })).code === 0 ? [] : [problem];
}

/** Is `path` an existing directory on the host? */
export async function isDirectory(host: Host, path: string): Promise<boolean> {
  return (await host.run(["test", "-d", path], { check: false })).code === 0;
}

/** The problem of a shared directory that is not there (none when it is). */
export async function sharedDirectoryProblems(host: Host, field: string, path: string): Promise<Problem[]> {
  if (await isDirectory(host, path)) return [];
  return [{ field, value: path, message: `does not exist (or is not a directory) on ${host.label}; create it first (e.g. with a ZfsDataset) or fix the path` }];
}
