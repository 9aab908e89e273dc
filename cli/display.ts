/**
 * How `kvmshare copy` shows progress: a bar on a TTY (bytes, rate, ETA, streams), plain
 * lines every few seconds otherwise, nothing with --quiet. Notices always go to stderr. Paths and
 * notices (which name files of the source) have their control characters escaped: a file name
 * cannot send terminal escapes.
 */
import { SingleBar } from "cli-progress";
import { escapeControl } from "../core/errors";
import { formatBytes, formatDuration, ProgressEvent, RateMeter } from "../transfer/progress";

export type DisplayMode = "bar" | "lines" | "none";

export interface Display {
  onEvent(e: ProgressEvent): void;
  stop(): void;
}

export function createDisplay(mode: DisplayMode, out: NodeJS.WritableStream = process.stderr, lineEveryMs = 2000): Display {
  const meter = new RateMeter();
  let streams = 0;
  let bar: SingleBar | undefined;
  let lastLine = 0;
  const line = (done: number, total: number) => {
    const pct = total ? ((100 * done) / total).toFixed(0) : "100";
    return `${formatBytes(done)} / ${formatBytes(total)} (${pct}%) ${formatBytes(meter.rate())}/s ETA ${formatDuration(meter.eta(total - done))} ${streams} streams`;
  };
  return {
    onEvent(e) {
      if (e.type === "notice") {
        if (bar) bar.stop();
        out.write(`kvmshare: ${escapeControl(e.message)}\n`);
        if (bar) bar.start(bar.getTotal(), 0);
        return;
      }
      if (mode === "none") return;
      if (e.type === "start") {
        streams = e.streams;
        lastLine = Date.now();
        out.write(`kvmshare: ${escapeControl(e.source)} -> ${escapeControl(e.destination)}: ${formatBytes(e.totalBytes)} in ${e.files} file${e.files === 1 ? "" : "s"}, ${e.streams} streams\n`);
        if (mode === "bar") {
          bar = new SingleBar(
            {
              format: "{bar} {percentage}% | {done} / {totalh} | {rate}/s | ETA {etah} | {streams} streams",
              stream: out as NodeJS.WriteStream,
              hideCursor: true,
              barsize: 30,
              fps: 5,
            },
          );
          bar.start(e.totalBytes, 0, { done: formatBytes(0), totalh: formatBytes(e.totalBytes), rate: "0 B", etah: "--:--", streams });
        }
      } else if (e.type === "progress") {
        meter.add(e.copiedBytes);
        if (bar) {
          bar.update(e.doneBytes, {
            done: formatBytes(e.doneBytes),
            totalh: formatBytes(e.totalBytes),
            rate: formatBytes(meter.rate()),
            etah: formatDuration(meter.eta(e.totalBytes - e.doneBytes)),
            streams,
          });
        } else if (mode === "lines" && Date.now() - lastLine >= lineEveryMs) {
          lastLine = Date.now();
          out.write(`kvmshare: ${line(e.doneBytes, e.totalBytes)}\n`);
        }
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
