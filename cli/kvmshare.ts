#!/usr/bin/env node
/**
 * The `kvmshare` command. Subcommands live in their own modules and add themselves with
 * `register(program)`; add a module to REGISTRARS to add a subcommand.
 * Exit codes: see `kvmshare copy --help` and docs/transfer.md.
 */
// Enough libuv threads for every stream's reads and writes in flight (default is 4). Must be
// set before the first asynchronous fs call; a value the user set wins.
process.env.UV_THREADPOOL_SIZE ??= "16";

import { Command, CommanderError } from "commander";
import { register as registerCopy } from "./copy";
import { register as registerCheck } from "./check";
import { register as registerDrill } from "./drill";
import { register as registerFailover } from "./failover";
import { TransferError } from "../transfer/errors";
import { escapeControl } from "../core/errors";

const REGISTRARS: ((program: Command) => void)[] = [registerCopy, registerCheck, registerDrill, registerFailover];

export function buildProgram(): Command {
  const program = new Command("kvmshare")
    .description("kvmshare: fast, safe file exchange between a KVM host and its guests")
    .exitOverride()
    .showHelpAfterError();
  for (const register of REGISTRARS) register(program);
  // Subcommands throw instead of exiting, so main() decides the exit code.
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version "errors" are successes; everything else is a usage error.
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help" ? 0 : 2;
    }
    if (e instanceof TransferError) {
      process.stderr.write(`kvmshare: error: ${escapeControl(e.message)}\n`);
      return e.exitCode;
    }
    process.stderr.write(`kvmshare: error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  });
}
