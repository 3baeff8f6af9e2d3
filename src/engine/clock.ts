// The engine's clock. In rehearsal mode (`--time-scale N`) every duration the engine measures for a job runs N
// times faster from the job's creation: rate windows, maintenance windows, start and end times, timeouts. A job
// created at c sees, at real time t, the time c + (t − c) × N; a moment v of that timeline falls at real time
// c + (v − c) / N. Stored timestamps stay real, so the API shows real times. Scale 1 is the identity.
export class Clock {
  constructor(
    readonly scale = 1,
    private readonly realNow: () => number = Date.now,
  ) {
    if (!Number.isInteger(scale) || scale < 1) throw new Error(`The time scale must be a whole number of at least 1, not ${scale}`);
  }

  /** Real time, epoch ms. */
  now(): number {
    return this.realNow();
  }

  /** The job's time at real time `at` (default now), for a job whose timeline starts at `anchor`. */
  jobTime(anchor: number, at = this.now()): number {
    return anchor + (at - anchor) * this.scale;
  }

  /** The real time at which the job's timeline (started at `anchor`) reaches `time`. */
  realTime(anchor: number, time: number): number {
    return anchor + Math.ceil((time - anchor) / this.scale);
  }

  /** A duration of the job's timeline, in real ms. */
  realDuration(ms: number): number {
    return Math.ceil(ms / this.scale);
  }
}
