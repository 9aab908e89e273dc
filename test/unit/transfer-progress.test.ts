import { formatBytes, formatDuration, RateMeter } from "../../transfer/progress";

describe("RateMeter", () => {
  it("measures bytes per second over its window and estimates the time left", () => {
    let now = 0;
    const m = new RateMeter(3000, () => now);
    expect(m.add(0)).toBe(0);
    now = 1000;
    expect(m.add(100 * 1024 * 1024)).toBeCloseTo(100 * 1024 * 1024);
    now = 2000;
    m.add(300 * 1024 * 1024);
    expect(m.rate()).toBeCloseTo(150 * 1024 * 1024);
    expect(m.eta(300 * 1024 * 1024)).toBeCloseTo(2);
    now = 10_000;
    m.add(300 * 1024 * 1024); // stalled: old samples leave the window
    expect(m.rate()).toBe(0);
    expect(m.eta(1)).toBe(Infinity);
  });
});

describe("formatting", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [2 * 1024 ** 3, "2.0 GiB"],
    [500 * 1024 ** 2, "500 MiB"],
  ])("%i bytes -> %s", (n, s) => expect(formatBytes(n)).toBe(s));
  it.each([
    [Infinity, "--:--"],
    [5, "0:05"],
    [125, "2:05"],
    [3725, "1:02:05"],
  ])("%s seconds -> %s", (n, s) => expect(formatDuration(n)).toBe(s));
});
