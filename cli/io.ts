/** Where a CLI command writes and how it ends (injectable for tests). */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Called once with the exit code. @default sets process.exitCode */
  exit(code: number): void;
}

/** The process's own streams and exit code. */
export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  exit: (code) => {
    process.exitCode = code;
    // A CLI entry that sets its own exit code once parsing returns (0 when no error was thrown)
    // must not turn a failure into success: restore ours at exit if it was cleared.
    if (code !== 0) {
      process.once("exit", () => {
        if (!process.exitCode) process.exitCode = code;
      });
    }
  },
};
