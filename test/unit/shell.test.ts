import { execFileSync } from "child_process";
import { quote, quoteArgv } from "../../core/shell";

/** What a real POSIX shell makes of `printf '%s\n' <quoted>`: proves the quoting, not just its shape. */
function throughShell(values: string[]): string[] {
  const out = execFileSync("sh", ["-c", `for a in ${quoteArgv(values)}; do printf '%s\\0' "$a"; done`]).toString();
  return out.split("\0").slice(0, -1);
}

describe("quote", () => {
  const hostile = [
    "plain",
    "",
    "with space",
    "it's",
    "'; rm -rf / #",
    "$(touch /tmp/pwned)",
    "`id`",
    "a\nb",
    "tab\there",
    "glob*?[x]",
    "~root",
    "$HOME",
    "\\backslash\\",
    '"double"',
    "--flag",
    "-",
    "ünïcødé ✓",
    "a'b'c''",
    "!history",
    "semi;colon|pipe&amp>redir<in",
  ];

  it.each(hostile.map((h) => [JSON.stringify(h), h]))("survives a real shell unchanged: %s", (_label, value) => {
    expect(throughShell([value])).toEqual([value]);
  });

  it("passes all hostile strings through one command line as separate arguments", () => {
    expect(throughShell(hostile)).toEqual(hostile);
  });

  it("leaves safe words bare and quotes the empty string", () => {
    expect(quote("zfs")).toBe("zfs");
    expect(quote("tank/data@snap-1")).toBe("tank/data@snap-1");
    expect(quote("")).toBe("''");
  });

  it("refuses a NUL byte, which no argument can carry", () => {
    expect(() => quote("a\0b")).toThrow(/NUL/);
  });

  it("refuses non-strings", () => {
    expect(() => quote(42 as unknown as string)).toThrow(/expected a string/);
  });
});
