/**
 * Property-based: for every free-text field that reaches a rendered file, 1,000 generated
 * hostile strings (line breaks of every kind, NUL, quotes, `[section]`, `=`, `;`, `#`,
 * backslashes, Unicode separators, very long values). A value the validator lets through must
 * render a file with exactly the structure a benign value gives (same lines, sections, keys,
 * options as the daemon's parser would see them), and a value that breaks a line is always refused.
 */
import fc from "fast-check";
import { formatProblem } from "../../core/errors";
import { BREAKS_A_LINE, FIELDS, hostile, lines, smbpasswdProbe } from "./hostile-fields";

// 1,000 generated values per field: room for a loaded 2-core machine (the default 5 s is not).
jest.setTimeout(120_000);

const RUNS = 1000;

describe.each(FIELDS.map((f) => [`${f.component} ${f.field}`, f] as const))("%s", (_label, f) => {
  const benign = f.run(f.benign);
  it("the benign value passes (so the property below exercises the renderer)", () => {
    expect(benign.problems.map(formatProblem)).toEqual([]);
  });
  const benignShape = benign.render().map(f.shape);

  it(`never renders an extra line, section or option, and refuses every line break (${RUNS} hostile values)`, () => {
    fc.assert(
      fc.property(hostile, (h) => {
        const v = f.wrap(h);
        const probe = f.run(v);
        if (BREAKS_A_LINE.test(v)) expect(probe.problems.length).toBeGreaterThan(0);
        if (probe.problems.length === 0) expect(probe.render().map(f.shape)).toEqual(benignShape);
        // Whatever the value, a message stays on one line.
        for (const p of probe.problems) expect(lines(formatProblem(p))).toHaveLength(1);
      }),
      // Always tried, whatever the seed: a backslash before trailing blanks (found by a run: systemd
      // and Samba strip the blanks, then read a continuation line), and before a trailing slash
      // (found by a later run: a path is written without its trailing slash).
      { numRuns: RUNS, examples: [["\\ "], ["\\\t"], ["x\\  "], ["\\/"], ["x\\/ /"]] },
    );
  });
});

describe("SmbUser password (smbpasswd -s reads two lines on stdin)", () => {
  it(`a password that passes gives exactly two lines, and is at most 254 bytes (${RUNS} hostile values)`, () => {
    fc.assert(
      fc.property(hostile, (v) => {
        const probe = smbpasswdProbe(v);
        if (BREAKS_A_LINE.test(v) || v === "" || Buffer.byteLength(v) > 254) expect(probe.problems.length).toBeGreaterThan(0);
        if (!probe.problems.length) expect(lines(probe.render()[0])).toHaveLength(3);
      }),
      { numRuns: RUNS },
    );
  });
});
