/**
 * Build (or find) the VM lane's guest images ahead of the lane: `.ci/run` starts this in the
 * background, at the lowest CPU priority, while the unit and integration lanes run, so a cold CI
 * run does not wait for mmdebstrap and dkms afterwards. The lane itself needs nothing from here:
 * `ensureImage` takes the same lock, so a scenario that reaches an image still being built waits
 * for it, and one whose image this run could not build builds it itself (and fails loudly).
 *
 *   npx ts-node --transpile-only test/vm/prebuild.ts [variant ...]
 */
import { ensureImage, ImageVariant } from "./image";

/** What `npm run test:vm` boots, most used first. */
export const LANE_IMAGES: ImageVariant[] = ["base", "krb5", "openzfs", "bare"];

async function main(): Promise<void> {
  const wanted = (process.argv.slice(2) as ImageVariant[]).filter(Boolean);
  let failed = 0;
  for (const variant of wanted.length ? wanted : LANE_IMAGES) {
    const t0 = Date.now();
    try {
      const image = await ensureImage(variant, (line) => process.stdout.write(`[prebuild ${variant}] ${line}\n`));
      process.stdout.write(`[prebuild] ${variant}: ${image.fromCache ? "cached" : `built in ${image.buildSeconds}s`} (${((Date.now() - t0) / 1000).toFixed(0)}s) ${image.dir}\n`);
    } catch (e) {
      failed++;
      process.stdout.write(`[prebuild] ${variant}: FAILED after ${((Date.now() - t0) / 1000).toFixed(0)}s: ${(e as Error).message}\n`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
