/**
 * Build (or find) the VM lane's guest images ahead of the lane: `.ci/run` starts this in the
 * background, at the lowest CPU priority, while the unit and integration lanes run, so a cold CI
 * run does not wait for mmdebstrap and dkms afterwards. The lane itself needs nothing from here:
 * `ensureImage` takes the same lock, so a scenario that reaches an image still being built waits
 * for it, and one whose image this run could not build builds it itself (and fails loudly).
 *
 *   npx ts-node --transpile-only test/vm/prebuild.ts [release/variant ...]   # e.g. trixie/krb5
 */
import { ensureImage, ImageVariant, Release } from "./image";

/** What `npm run test:vm` boots (package.json), in the order the lane reaches them. */
export const LANE_IMAGES: `${Release}/${ImageVariant}`[] = ["bookworm/base", "bookworm/krb5", "bookworm/openzfs", "trixie/krb5", "trixie/base"];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter(Boolean);
  let failed = 0;
  for (const item of wanted.length ? wanted : LANE_IMAGES) {
    const [release, variant] = item.split("/") as [Release, ImageVariant];
    const t0 = Date.now();
    try {
      const image = await ensureImage(variant, (line) => process.stdout.write(`[prebuild ${item}] ${line}\n`), { release });
      process.stdout.write(`[prebuild] ${item}: ${image.fromCache ? "cached" : `built in ${image.buildSeconds}s`} (${((Date.now() - t0) / 1000).toFixed(0)}s) ${image.dir}\n`);
    } catch (e) {
      failed++;
      process.stdout.write(`[prebuild] ${item}: FAILED after ${((Date.now() - t0) / 1000).toFixed(0)}s: ${(e as Error).message}\n`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
