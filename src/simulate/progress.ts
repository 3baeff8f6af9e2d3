// The simulator's live view: one redrawn line with a bar on a terminal, a plain line every few seconds otherwise,
// and the summary at the end.
import type { FleetCounts } from './fleet.ts';
import { formatDuration } from './plan.ts';

export interface ProgressView {
  update(counts: FleetCounts, devices: number): void;
  end(): void;
}

/** Finished executions per second over a sliding window. */
class RateMeter {
  private readonly samples: Array<[number, number]> = [];
  rate(finished: number, now: number): number {
    this.samples.push([now, finished]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5000) this.samples.shift();
    const [t0, f0] = this.samples[0]!;
    return now > t0 ? ((finished - f0) * 1000) / (now - t0) : 0;
  }
}

export const finishedOf = (c: FleetCounts) => c.succeeded + c.failed + c.rejected + c.timedOut;

export function progressLine(c: FleetCounts, devices: number, rate: number, width = 30): string {
  const share = devices ? Math.min(1, c.devicesDone / devices) : 0;
  const filled = Math.round(share * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const eta = rate > 0 ? formatDuration(((devices - c.devicesDone) / rate) * 1000) : '--';
  const waiting = Math.max(0, devices - c.devicesDone - c.inProgress);
  return `${bar} ${Math.round(share * 100)}% waiting ${waiting} in-progress ${c.inProgress} succeeded ${c.succeeded} failed ${c.failed} rejected ${c.rejected} timed-out ${c.timedOut} hung ${c.hung} | ${rate.toFixed(1)}/s ETA ${eta}`;
}

export function createProgress(stream: NodeJS.WriteStream, intervalMs = 2000): ProgressView {
  const meter = new RateMeter();
  let last = 0;
  return {
    update(counts, devices) {
      const now = Date.now();
      const line = progressLine(counts, devices, meter.rate(finishedOf(counts), now));
      if (stream.isTTY) {
        stream.write(`\r\x1b[K${line.slice(0, Math.max(20, (stream.columns ?? 120) - 1))}`);
      } else if (now - last >= intervalMs) {
        last = now;
        stream.write(`${line}\n`);
      }
    },
    end() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}

export function summary(c: FleetCounts, devices: number, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  return [
    `simulated ${devices} devices for ${formatDuration(elapsedMs)}`,
    `  executions started ${c.started}, succeeded ${c.succeeded}, failed ${c.failed}, rejected ${c.rejected}, timed out ${c.timedOut}, hung ${c.hung}`,
    `  finished ${finishedOf(c)} (${seconds > 0 ? (finishedOf(c) / seconds).toFixed(1) : '0'}/s), devices done ${c.devicesDone}/${devices}`,
    `  downloads ${c.downloads} (${(c.downloadedBytes / 1048576).toFixed(1)} MiB, ${c.downloadErrors} failed), protocol errors ${c.errors}`,
  ].join('\n');
}
