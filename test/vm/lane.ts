/**
 * The VM lane's jest glue: the skip policy, one guest per test file, named scenarios that attach
 * the guest's console and journal to a failure, and a timing report printed at the end of each
 * file (image build/lookup, boot, every scenario).
 */
import { requirePrograms } from "../requirePrograms";
import { bootGuest, BootOptions, Guest, QEMU } from "./guest";
import { ensureImage, GuestImage, ImageVariant, Release, vmRelease } from "./image";

/** What booting a TCG guest from a cached or freshly built image needs on this machine. */
export const VM_PROGRAMS = [QEMU, "qemu-img", "mmdebstrap", "mke2fs", "ssh-keygen", "ssh", "depmod"];

/**
 * `describe` for VM scenarios, under the one policy of test/requirePrograms.ts: when a program
 * is missing, a banner names it and its package; under CI (`CI=true`, `KVMSHARE_VM_REQUIRED=1`
 * or `KVMSHARE_REQUIRE_PROGRAMS=1`) the scenarios fail, elsewhere they are skipped.
 * `extraPrograms`: what this file needs on this machine besides booting a guest (e.g. `pulumi`).
 */
export function describeVm(name: string, fn: () => void, extraPrograms: string[] = [], release: Release = vmRelease()): void {
  // The release (KVMSHARE_VM_RELEASE) is part of the name on trixie, so a report tells the runs apart.
  requirePrograms([...VM_PROGRAMS, ...extraPrograms], { root: true })(release === "bookworm" ? name : `${name} [Debian 13 ${release}]`, fn);
}

export interface Timing {
  label: string;
  seconds: number;
  note?: string;
}

/** The guest of one test file, filled in by `beforeAll`. */
export interface Lane {
  readonly guest: Guest;
  readonly image: GuestImage;
  readonly times: Timing[];
  log(line: string): void;
}

/** Lines go to stderr right away, so progress shows while a long TCG step runs. */
function say(line: string): void {
  process.stderr.write(`[vm] ${line}\n`);
}

/**
 * Build or find the image, boot one guest for the whole file, power it off after. `prepare`
 * runs on this machine before boot (e.g. to create what a virtiofs share exports) and returns
 * the boot options.
 */
export function useGuest(
  file: string,
  variant: ImageVariant,
  prepare: () => Promise<BootOptions> | BootOptions = () => ({}),
  /** Runs after the guest is off (e.g. to destroy a pool a virtiofs share exported), also on failure. */
  afterShutdown: () => Promise<void> | void = () => undefined,
  /** The Debian release to boot. @default KVMSHARE_VM_RELEASE, else bookworm */
  release: Release = vmRelease(),
): Lane {
  let guest: Guest | undefined;
  let image: GuestImage | undefined;
  const times: Timing[] = [];
  const lane: Lane = {
    get guest() {
      if (!guest) throw new Error("the guest did not boot (see the beforeAll error above)");
      return guest;
    },
    get image() {
      if (!image) throw new Error("no image (see the beforeAll error above)");
      return image;
    },
    times,
    log: say,
  };
  beforeAll(async () => {
    image = await ensureImage(variant, say, { release });
    times.push({
      label: `image ${image.release} ${variant}`,
      seconds: image.elapsedSeconds,
      note: image.fromCache ? "warm (cached)" : `cold build ${image.buildSeconds.toFixed(0)} s`,
    });
    const t1 = Date.now();
    const opts = await prepare();
    if (Date.now() - t1 > 500) times.push({ label: "prepare (this machine)", seconds: (Date.now() - t1) / 1000 });
    guest = await bootGuest(image, { ...opts, log: say });
    times.push({ label: "boot to SSH + systemd ready", seconds: guest.bootSeconds });
  }, 75 * 60_000); // a cold openzfs image under load (image.ts BUILD_TIMEOUT_MS) + boot
  afterAll(async () => {
    const t0 = Date.now();
    try {
      await guest?.shutdown();
    } finally {
      await afterShutdown();
    }
    times.push({ label: "power off + cleanup", seconds: (Date.now() - t0) / 1000 });
    const width = Math.max(...times.map((t) => t.label.length), 10);
    say(
      `times for ${file}:\n` +
        times.map((t) => `    ${t.label.padEnd(width)} ${t.seconds.toFixed(1).padStart(7)} s${t.note ? `  (${t.note})` : ""}`).join("\n"),
    );
  }, 120_000);
  return lane;
}

/**
 * A named scenario run against the file's guest. On failure the error carries the tail of the
 * serial console and of the guest's journal; the time it took goes to the report either way.
 */
export function scenario(lane: Lane, name: string, fn: () => Promise<void>, timeoutMs = 180_000): void {
  run(test, lane, name, fn, timeoutMs);
}

/**
 * A scenario that states the behaviour users need but a component does not have yet: it runs
 * with `test.failing`, so it passes while the defect is there and fails (asking for this marker
 * to go) once the component is fixed. Name it "KNOWN DEFECT (<component>): ...".
 */
export function knownDefect(lane: Lane, name: string, fn: () => Promise<void>, timeoutMs = 180_000): void {
  run(test.failing, lane, name, fn, timeoutMs);
}

function run(t: typeof test | typeof test.failing, lane: Lane, name: string, fn: () => Promise<void>, timeoutMs: number): void {
  t(
    name,
    async () => {
      const t0 = Date.now();
      let ok = false;
      try {
        await fn();
        ok = true;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        let journal = "";
        try {
          journal = await lane.guest.journalTail(60);
        } catch {
          /* the guest is gone; the console tail still helps */
        }
        let consoleTail = "";
        try {
          consoleTail = lane.guest.consoleTail(30);
        } catch {
          /* no guest */
        }
        err.message += `\n--- guest journal (last 60 lines) ---\n${journal}\n--- guest console (last 30 lines) ---\n${consoleTail}`;
        throw err;
      } finally {
        lane.times.push({ label: name, seconds: (Date.now() - t0) / 1000, note: ok ? undefined : t === test ? "FAILED" : "failed as expected (known defect)" });
      }
    },
    timeoutMs,
  );
}
