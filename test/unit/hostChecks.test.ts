/** The shared preflight probes of core/hostChecks.ts, against a host that answers from a table. */
import type { Host } from "../../core/connection";
import { commandProblems, exportProblems, installedProblems } from "../../core/hostChecks";

/** A host with the given commands on its PATH and the given directories; every argv it ran is kept. */
function fakeHost(commands: string[], dirs: string[]) {
  const ran: string[][] = [];
  const host = {
    label: "h1",
    async run(argv: string[]) {
      ran.push(argv);
      const ok = argv[0] === "test" ? dirs.includes(argv[2]) : argv[0] === "sh" && argv.length === 5 ? commands.includes(argv[4]) : argv[2] === "true";
      return { code: ok ? 0 : 1, stdout: "", stderr: "" };
    },
  };
  return { host: host as unknown as Host, ran };
}

describe("host checks", () => {
  it("names a missing command, the host and the package on the given field", async () => {
    const { host, ran } = fakeHost([], []);
    expect(await commandProblems(host, "testparm", "samba")).toEqual([{ field: "check", value: true, message: "testparm is not installed on h1; install samba" }]);
    expect(await commandProblems(host, "exportfs", "nfs-kernel-server", "backend", "kernel")).toEqual([
      { field: "backend", value: "kernel", message: "exportfs is not installed on h1; install nfs-kernel-server" },
    ]);
    // The command goes to the shell as a positional parameter, never inside the script.
    expect(ran[0]).toEqual(["sh", "-c", 'command -v -- "$1" >/dev/null 2>&1', "sh", "testparm"]);
  });

  it("finds nothing when the command is there", async () => {
    expect(await commandProblems(fakeHost(["testparm"], []).host, "testparm", "samba")).toEqual([]);
  });

  it("checks an export's directory, and its server only when asked", async () => {
    const { host } = fakeHost([], []);
    const dir = { field: "path", value: "/srv/x", message: expect.stringMatching(/^does not exist .* on h1/) };
    expect(await exportProblems(host, "/srv/x")).toEqual([dir]);
    expect(await exportProblems(host, "/srv/x", { cmd: "testparm", install: "samba" })).toEqual([dir, { field: "check", value: true, message: "testparm is not installed on h1; install samba" }]);
    expect(await exportProblems(fakeHost(["testparm"], ["/srv/x"]).host, "/srv/x", { cmd: "testparm", install: "samba" })).toEqual([]);
  });

  it("gives the problem when a shell test fails, none when it passes", async () => {
    const problem = { field: "realm", message: "the MIT KDC is not installed on h1" };
    expect(await installedProblems(fakeHost([], []).host, "false", problem)).toEqual([problem]);
    expect(await installedProblems(fakeHost([], []).host, "true", problem)).toEqual([]);
  });
});
