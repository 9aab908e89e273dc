/**
 * The resume manifest: which chunks of `<dest>.part` hold verified data, and the source they
 * came from. Stored as JSON next to the part file (`<dest>.part.manifest`), rewritten
 * atomically (temp + rename) as chunks complete. A manifest only counts for the exact same
 * source (path, size, mtime) and chunk size; anything else restarts the copy, with the reason.
 */

import { HASH_ALGORITHMS, HashAlgorithm, isDigest } from "./hasher";

export const MANIFEST_FORMAT = "kvmshare-manifest/1";

export interface SourceIdentity {
  /** Absolute source path. */
  path: string;
  size: number;
  /** Modification time, milliseconds since the epoch. */
  mtimeMs: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  source: SourceIdentity;
  chunkSize: number;
  /** How the chunks were hashed. */
  hash: HashAlgorithm;
  /** Hex digest of each completed chunk, by chunk index. */
  chunks: Record<string, string>;
}

export function partPath(dest: string): string {
  return `${dest}.part`;
}

export function manifestPath(dest: string): string {
  return `${dest}.part.manifest`;
}

export function newManifest(source: SourceIdentity, chunkSize: number, hash: HashAlgorithm = "sha256"): Manifest {
  return { format: MANIFEST_FORMAT, source: { ...source }, chunkSize, hash, chunks: {} };
}

/** Parse a manifest; `undefined` with a reason when the text is not one. */
export function parseManifest(text: string): { manifest?: Manifest; problem?: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { problem: `manifest is not valid JSON (${(e as Error).message})` };
  }
  const m = v as Partial<Manifest>;
  if (!m || typeof m !== "object" || m.format !== MANIFEST_FORMAT) return { problem: `manifest format is not ${MANIFEST_FORMAT}` };
  if (!HASH_ALGORITHMS.includes(m.hash as HashAlgorithm)) return { problem: `manifest hash '${String(m.hash)}' is not one of ${HASH_ALGORITHMS.join(", ")}` };
  const s = m.source as Partial<SourceIdentity> | undefined;
  if (!s || typeof s.path !== "string" || !Number.isSafeInteger(s.size) || typeof s.mtimeMs !== "number") {
    return { problem: "manifest has no valid source identity" };
  }
  if (!Number.isSafeInteger(m.chunkSize) || (m.chunkSize as number) < 1) return { problem: "manifest has no valid chunkSize" };
  if (!m.chunks || typeof m.chunks !== "object") return { problem: "manifest has no chunk table" };
  for (const [k, h] of Object.entries(m.chunks)) {
    if (!/^\d+$/.test(k) || typeof h !== "string" || !isDigest(m.hash as HashAlgorithm, h)) return { problem: `manifest chunk entry '${k}' is malformed` };
  }
  return { manifest: m as Manifest };
}

/**
 * Why this manifest cannot be used to resume a copy of `source` with `chunkSize`, or
 * `undefined` when it can. Messages are meant for users ("source changed since ...").
 */
export function manifestMismatch(m: Manifest, source: SourceIdentity, chunkSize: number, hash: HashAlgorithm = "sha256"): string | undefined {
  if (m.source.path !== source.path) return `the partial copy came from ${m.source.path}, not ${source.path}`;
  if (m.source.size !== source.size) {
    return `the source changed since the partial copy was made (size ${m.source.size} -> ${source.size} bytes)`;
  }
  if (Math.abs(m.source.mtimeMs - source.mtimeMs) >= 1) {
    return (
      `the source changed since the partial copy was made (mtime ` +
      `${new Date(m.source.mtimeMs).toISOString()} -> ${new Date(source.mtimeMs).toISOString()})`
    );
  }
  if (m.chunkSize !== chunkSize) return `the partial copy used chunks of ${m.chunkSize} bytes, this run uses ${chunkSize} (pass --chunk ${m.chunkSize} to reuse it)`;
  if (m.hash !== hash) return `the partial copy recorded ${m.hash} hashes, this run uses ${hash} (pass --hash ${m.hash} to reuse it)`;
  return undefined;
}

export function serializeManifest(m: Manifest): string {
  return JSON.stringify(m) + "\n";
}
