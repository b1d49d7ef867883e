/**
 * A one-line progress indicator on stderr for long waits (a handshake that is pending, a large
 * reliable send to a slow peer). Only on a terminal: when stderr is a pipe or a file nothing
 * is written. Nothing shows during the first second, so quick commands print no noise.
 */
import { systemScheduler, type Scheduler, type Timer } from '../runtime/scheduler';
import { clip } from './units';

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  scheduler?: Scheduler;
  /** First line after this long (default 1000 ms), then one update per interval. */
  delayMs?: number;
  intervalMs?: number;
  /** Called on every update before the line is drawn (e.g. to poll the peer's state). */
  onTick?: () => void;
}

export class Progress {
  readonly #stream: ProgressOptions['stream'];
  readonly #label: string;
  readonly #onTick: (() => void) | undefined;
  #detail = '';
  #elapsedMs = 0;
  #drawn = false;
  #timer: Timer | null = null;
  #interval: Timer | null = null;

  constructor(label: string, opts: ProgressOptions) {
    this.#stream = opts.stream;
    this.#label = label;
    this.#onTick = opts.onTick;
    if (opts.stream.isTTY !== true) return;
    const scheduler = opts.scheduler ?? systemScheduler;
    const delay = opts.delayMs ?? 1000;
    const every = opts.intervalMs ?? 1000;
    this.#timer = scheduler.timeout(() => {
      this.#elapsedMs = delay;
      this.#tick();
      this.#interval = scheduler.interval(() => {
        this.#elapsedMs += every;
        this.#tick();
      }, every);
    }, delay);
  }

  get active(): boolean {
    return this.#timer !== null;
  }

  /** What is being waited for now (shown from the next update on, or at once if already showing). */
  set(detail: string): void {
    if (detail === this.#detail) return;
    this.#detail = detail;
    if (this.#drawn) this.#draw();
  }

  #tick(): void {
    this.#onTick?.();
    this.#draw();
  }

  #draw(): void {
    const s = ` (${Math.round(this.#elapsedMs / 1000)} s)`;
    // One line only (a wrapped line could not be redrawn with \r): clipped to the terminal width.
    const width = Math.max(20, (this.#stream.columns ?? 100) - 1) - s.length;
    this.#stream.write(`\r\x1b[K${clip(`${this.#label}${this.#detail ? `: ${this.#detail}` : ''}`, width)}${s}`);
    this.#drawn = true;
  }

  /** Removes the line (before the command prints its result). */
  stop(): void {
    this.#timer?.cancel();
    this.#interval?.cancel();
    this.#timer = null;
    this.#interval = null;
    if (this.#drawn) this.#stream.write('\r\x1b[K');
    this.#drawn = false;
  }
}
