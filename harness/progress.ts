import type { Logger } from './types.ts';

/**
 * Progress of one cell: a single self-rewriting line (examples/s, ETA) on a terminal, and plain log
 * lines at most every few seconds otherwise (CI logs, pipes).
 */
export class Progress {
  readonly #start = performance.now();
  #done = 0;
  #lastPrint = 0;

  constructor(
    readonly label: string,
    readonly total: number,
    readonly already: number,
    readonly stream: NodeJS.WriteStream = process.stderr,
    readonly interactive = Boolean(process.stderr.isTTY) && !process.env.CI,
  ) {}

  advance(n: number): void {
    this.#done += n;
    const now = performance.now();
    if (now - this.#lastPrint < (this.interactive ? 100 : 5000) && this.#done + this.already < this.total)
      return;
    this.#lastPrint = now;
    const line = this.#line(now);
    if (this.interactive) this.stream.write(`\r\x1b[2K${line}`);
    else this.stream.write(`${line}\n`);
  }

  finish(): void {
    if (this.interactive) this.stream.write('\r\x1b[2K');
  }

  #line(now: number): string {
    const seconds = (now - this.#start) / 1000;
    const rate = seconds > 0 ? this.#done / seconds : 0;
    const current = this.#done + this.already;
    const left = this.total - current;
    const eta = rate > 0 ? `${formatSeconds(left / rate)}` : '?';
    const pct = this.total > 0 ? Math.floor((100 * current) / this.total) : 100;
    return `${this.label}: ${current}/${this.total} (${pct}%) ${rate.toFixed(1)} ex/s ETA ${eta}`;
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.ceil(s - m * 60)).padStart(2, '0')}s`;
}

/** Logger on stderr; `quiet` keeps warnings only. */
export function consoleLogger(quiet = false): Logger {
  return {
    info: (msg) => {
      if (!quiet) process.stderr.write(`${msg}\n`);
    },
    warn: (msg) => process.stderr.write(`warning: ${msg}\n`),
  };
}
