import { SingleBar } from 'cli-progress';

/**
 * A progress bar on a terminal; elsewhere (scripts, CI logs) a plain `label: n/total` line per step on
 * standard error, so standard output keeps only the summary.
 */
export class Progress {
  private readonly bar: SingleBar | null;
  private value = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {
    this.bar = process.stderr.isTTY
      ? new SingleBar({
          format: `${label} [{bar}] {value}/{total} ({eta_formatted} left)`,
          stream: process.stderr,
          hideCursor: true,
        })
      : null;
    this.bar?.start(total, 0);
  }

  advance(by: number): void {
    this.value += by;
    if (this.bar) this.bar.update(this.value);
    else if (by > 0) process.stderr.write(`${this.label}: ${this.value}/${this.total}\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}
