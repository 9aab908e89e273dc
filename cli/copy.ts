/**
 * `kvmshare copy [options] SRC DST`: registered on the shared `kvmshare` program.
 * `parseCopyCommand` is pure (tested); the action runs the engine and throws `TransferError`s,
 * which `main()` in cli/kvmshare.ts turns into the documented exit codes.
 */
import * as path from "path";
import { Command, Option } from "commander";
import { MAX_PORT, MIN_PORT, parseSize } from "../core/validate";
import { copy, CopyOptions, CopyResult, Target } from "../transfer/engine";
import { TransferError } from "../transfer/errors";
import { HASH_ALGORITHMS, HashAlgorithm } from "../transfer/hasher";
import { CHUNK_RANGE, MAX_CHUNK, MAX_STREAMS, MIN_CHUNK, MIN_STREAMS } from "../transfer/plan";
import { formatBytes } from "../transfer/progress";
import { parseRemote, sshSpecFor } from "../transfer/remote";
import { createDisplay, DisplayMode } from "./display";

export interface CopyCliOptions {
  streams?: string;
  chunk?: string;
  verify?: boolean;
  hash?: HashAlgorithm;
  resume?: boolean;
  port?: string;
  identity?: string;
  cipher?: string[];
  hostKey?: string;
  insecureIgnoreHostKey?: boolean;
  connections?: string;
  transport?: "auto" | "openssh" | "sftp";
  multiplex?: boolean;
  progress?: DisplayMode | "auto";
  json?: boolean;
  quiet?: boolean;
}

export interface ParsedCopy {
  source: string;
  target: Target;
  options: CopyOptions;
}

function intOption(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new TransferError("USAGE", `--${name}: expected an integer from ${min} to ${max} (got '${v}')`);
  return n;
}

/** Validate options and build what the engine needs. Every problem is a USAGE error naming the flag. */
export function parseCopyCommand(src: string, dst: string, o: CopyCliOptions): ParsedCopy {
  const options: CopyOptions = { verify: o.verify !== false, resume: o.resume === true };
  if (o.hash !== undefined) options.hash = o.hash;
  options.streams = intOption("streams", o.streams, MIN_STREAMS, MAX_STREAMS);
  if (o.chunk !== undefined) {
    const n = parseSize(o.chunk);
    if (n === undefined || n < MIN_CHUNK || n > MAX_CHUNK) {
      throw new TransferError("USAGE", `--chunk: expected a size from ${CHUNK_RANGE} such as 64M or 1G (got '${o.chunk}')`);
    }
    options.chunkSize = n;
  }
  if (parseRemote(src)) throw new TransferError("USAGE", `SRC must be a local path; copying from a remote host is not supported (got '${src}')`);
  const remote = parseRemote(dst);
  const sshOnly = { port: o.port, identity: o.identity, cipher: o.cipher?.length ? "x" : undefined, "host-key": o.hostKey, "insecure-ignore-host-key": o.insecureIgnoreHostKey, connections: o.connections, transport: o.transport, multiplex: o.multiplex };
  if (!remote) {
    const given = Object.entries(sshOnly).filter(([, v]) => v !== undefined && v !== false).map(([k]) => `--${k}`);
    if (given.length) throw new TransferError("USAGE", `${given.join(", ")} only apply to an SSH destination (user@host:/path); DST '${dst}' is local`);
    // A trailing "/" means "into this directory"; keep it through path.resolve.
    return { source: path.resolve(src), target: { kind: "local", path: path.resolve(dst) + (dst.endsWith("/") ? "/" : "") }, options };
  }
  if (o.connections !== undefined && o.transport === "openssh") {
    throw new TransferError("USAGE", "--connections spreads SFTP sessions over connections: it applies to --transport sftp (the openssh transport runs one ssh per stream; --multiplex shares one)");
  }
  if (o.multiplex && o.transport === "sftp") throw new TransferError("USAGE", "--multiplex applies to the openssh transport, not --transport sftp (use --connections there)");
  const connection = sshSpecFor(remote, {
    port: intOption("port", o.port, MIN_PORT, MAX_PORT),
    identity: o.identity,
    cipher: o.cipher?.flatMap((c) => c.split(",")).filter(Boolean),
    hostKey: o.hostKey,
    insecureIgnoreHostKey: o.insecureIgnoreHostKey,
  });
  return {
    source: path.resolve(src),
    target: { kind: "ssh", connection, path: remote.path, connections: intOption("connections", o.connections, MIN_STREAMS, MAX_STREAMS), transport: o.transport, multiplex: o.multiplex },
    options,
  };
}

function summary(r: CopyResult, label: string): string {
  const resumed = r.reusedBytes ? `, ${formatBytes(r.reusedBytes)} kept from the earlier partial copy` : "";
  const again = r.recopiedChunks ? `, ${r.recopiedChunks} bad chunk${r.recopiedChunks === 1 ? "" : "s"} copied again` : "";
  return (
    `kvmshare: copied ${r.files} file${r.files === 1 ? "" : "s"} to ${label}: ${formatBytes(r.bytes)} in ${r.seconds.toFixed(2)} s ` +
    `(${r.mibps.toFixed(0)} MiB/s, ${r.streams} streams${r.verify ? `, verified (${r.hash})` : ""}${resumed}${again})`
  );
}

export function register(program: Command): void {
  program
    .command("copy")
    .description("copy a file or directory with parallel streams, chunk hashes and resume, to a local/mounted path or user@host:/path over SSH")
    .argument("<src>", "local file or directory")
    .argument("<dst>", "local path, or [user@]host:/path")
    .option("-s, --streams <n>", "parallel streams (default: from cores and destination)")
    .option("-c, --chunk <size>", "chunk size, e.g. 64M (default: from file size, 8M-256M)")
    .option("--verify", "read every chunk back and compare hashes (default)")
    .option("--no-verify", "skip reading chunks back (the source hashes still go to the manifest)")
    .addOption(new Option("--hash <algorithm>", "chunk hash: xxh128 (fast; catches corruption) or sha256 (cryptographic); default xxh128 where xxh128sum is installed on both ends").choices([...HASH_ALGORITHMS]))
    .option("--resume", "continue an interrupted copy from <dst>.part and its manifest")
    .option("-p, --port <port>", "SSH port (default 22)")
    .option("-i, --identity <file>", "SSH private key (passphrase from KVMSHARE_SSH_PASSPHRASE)")
    .option("--cipher <names>", "SSH cipher(s) in preference order, comma-separated or repeated, e.g. aes128-gcm@openssh.com", (v: string, prev: string[] = []) => [...prev, v])
    .option("--host-key <fingerprint>", "expected SSH host key, SHA256:... as ssh-keygen -lf prints it (default: from ~/.ssh/known_hosts)")
    .option("--insecure-ignore-host-key", "accept any SSH host key (throwaway test hosts only)")
    .option("--connections <n>", "SFTP transport: SSH connections to spread the streams over (default: one per stream)")
    .addOption(new Option("--transport <how>", "SSH data path: openssh (an ssh process per stream, dd on the host), sftp (ssh2 in this process), auto").choices(["auto", "openssh", "sftp"]))
    .option("--multiplex", "OpenSSH transport: all streams over one connection (ControlMaster)")
    .addOption(new Option("--progress <mode>", "progress display").choices(["auto", "bar", "lines", "none"]).default("auto"))
    .option("--json", "print the result as JSON on stdout")
    .option("-q, --quiet", "no progress, no summary")
    .addHelpText(
      "after",
      `
Exit codes:
  0 copied   1 I/O error   2 usage   3 source missing/unreadable   4 no space left
  5 permission denied   6 source changed while copying   7 verification failed
  8 SSH connection/host key   130 interrupted (run again with --resume)

Examples:
  kvmshare copy disk.qcow2 /mnt/share/
  kvmshare copy --streams 4 --cipher aes128-gcm@openssh.com disk.qcow2 root@192.168.122.10:/var/lib/images/
  kvmshare copy --resume big.img /mnt/nfs/big.img`,
    )
    .action(async (src: string, dst: string, o: CopyCliOptions) => {
      const parsed = parseCopyCommand(src, dst, o);
      const mode: DisplayMode = o.quiet ? "none" : o.progress && o.progress !== "auto" ? o.progress : process.stderr.isTTY ? "bar" : "lines";
      const display = createDisplay(mode);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const result = await copy(parsed.source, parsed.target, { ...parsed.options, onEvent: (e) => display.onEvent(e), signal: abort.signal });
        display.stop();
        if (o.json) process.stdout.write(JSON.stringify(result) + "\n");
        else if (!o.quiet) {
          const label = parsed.target.kind === "ssh" ? `${parsed.target.connection.host}:${result.destination}` : result.destination;
          process.stdout.write(summary(result, label) + "\n");
        }
      } finally {
        display.stop();
        process.removeListener("SIGINT", onSignal);
        process.removeListener("SIGTERM", onSignal);
      }
    });
}
