/**
 * Where a copy goes. The engine only talks to this interface; `local.ts` implements it for a
 * local or mounted path (NFS, SMB, virtiofs), `sftp.ts` for SSH.
 */
import type { HashAlgorithm } from "./hasher";
import { DestinationKind } from "./plan";

export interface DestStat {
  size: number;
  mtimeMs: number;
  isDirectory: boolean;
}

/** An open `<dest>.part` file. `stream` picks the stream's own session where that matters (SFTP). */
export interface PartFile {
  write(buf: Buffer, length: number, position: number, stream: number): Promise<void>;
  read(buf: Buffer, length: number, position: number, stream: number): Promise<number>;
  /** fsync the file's data. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface Destination {
  readonly kind: DestinationKind;
  /** For messages: `local` or `user@host:port`. */
  readonly label: string;
  stat(path: string): Promise<DestStat | undefined>;
  readText(path: string): Promise<string | undefined>;
  /** Write via a temp file in the same directory and rename (the manifest). */
  writeTextAtomic(path: string, text: string): Promise<void>;
  /**
   * Open `path` for positional writes, `size` bytes long. `fresh` truncates an existing file;
   * otherwise an existing file keeps its bytes (resume).
   */
  openPart(path: string, size: number, fresh: boolean): Promise<PartFile>;
  rename(from: string, to: string): Promise<void>;
  /** Remove a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
  mkdirp(path: string): Promise<void>;
  setMtime(path: string, mtimeMs: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  /** Bytes free for an unprivileged writer in the directory, when the destination can tell. */
  freeBytes(dir: string): Promise<number | undefined>;
  /**
   * Hex digest of a byte range of a file, computed where the file is when the destination
   * can do that cheaply (SSH: on the remote host), else `undefined` and the engine reads back.
   */
  hashRange?(path: string, offset: number, length: number, stream: number, algorithm: HashAlgorithm): Promise<string>;
  /** The algorithms `hashRange` can use (without it: sha256 only). */
  hashAlgorithms?(): Promise<readonly HashAlgorithm[]>;
  /** Streams this destination was opened for (SFTP sessions). */
  readonly streams: number;
  close(): Promise<void>;
}
