/**
 * Transfer errors: one class, a machine-readable `code`, a message that says what happened,
 * to which path, and what to do about it. The CLI maps codes to exit codes (docs/transfer.md).
 */

export type TransferErrorCode =
  | "USAGE" // bad arguments or options
  | "SOURCE" // source missing or unreadable
  | "NO_SPACE" // destination full (ENOSPC/EDQUOT)
  | "PERMISSION" // destination not writable (EACCES/EPERM/EROFS)
  | "SOURCE_CHANGED" // source changed while (or since) copying
  | "VERIFY" // a chunk kept failing verification
  | "CONNECTION" // SSH connect/auth/host key failure
  | "INTERRUPTED" // stopped by a signal; the partial copy is kept for --resume
  | "IO"; // any other I/O error

/** Exit codes of `kvmshare copy`, by error code (0 = success). */
export const EXIT_CODES: Record<TransferErrorCode, number> = {
  USAGE: 2,
  SOURCE: 3,
  NO_SPACE: 4,
  PERMISSION: 5,
  SOURCE_CHANGED: 6,
  VERIFY: 7,
  CONNECTION: 8,
  INTERRUPTED: 130,
  IO: 1,
};

export class TransferError extends Error {
  constructor(
    public readonly code: TransferErrorCode,
    message: string,
    public readonly cause?: unknown,
  ) {
    super(message);
    this.name = "TransferError";
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

interface ErrnoLike {
  code?: string | number;
  message?: string;
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02) as ssh2 reports them in `err.code`. */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

/**
 * Turn an fs/SFTP error into a `TransferError` that names the path and the fix.
 * `where` is "source" or "destination"; `path` is the file involved.
 */
export function classify(err: unknown, where: "source" | "destination", path: string): TransferError {
  if (err instanceof TransferError) return err;
  const e = (err ?? {}) as ErrnoLike;
  const msg = e.message ?? String(err);
  const code = e.code;
  // OpenSSH's sftp-server reports ENOSPC as a generic failure whose message is strerror().
  if (code === "ENOSPC" || code === "EDQUOT" || /no space left|quota exceeded/i.test(msg)) {
    return new TransferError(
      "NO_SPACE",
      `no space left on the ${where} while writing ${path}: free space or copy elsewhere; ` +
        `the partial copy was removed and nothing was written under the final name`,
      err,
    );
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS" || code === SFTP_PERMISSION_DENIED) {
    return new TransferError(
      "PERMISSION",
      `permission denied on the ${where}: ${path} (${msg}): check ownership/mode of the directory, or copy as a user who may write there`,
      err,
    );
  }
  if (code === "ENOENT" || code === SFTP_NO_SUCH_FILE) {
    return new TransferError(
      where === "source" ? "SOURCE" : "IO",
      where === "source"
        ? `source not found: ${path}`
        : `destination directory does not exist: ${path} (create it first)`,
      err,
    );
  }
  return new TransferError(where === "source" ? "SOURCE" : "IO", `${where} ${path}: ${msg}`, err);
}
