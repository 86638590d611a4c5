/**
 * A one-line progress bar on stderr while long work runs, only on a terminal (scripts and --json get none):
 * `phase [#####-----] done/total`, or a running count when the total is not known in advance.
 */
export function progressBar(enabled: boolean): {
  update: (phase: string, done: number, total: number) => void;
  done: () => void;
} {
  const on = enabled && process.stderr.isTTY;
  let last = 0;
  let shown = false;
  return {
    update: (phase, done, total) => {
      if (!on) return;
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      shown = true;
      const width = 30;
      const text =
        total > 0
          ? `${phase} [${'#'.repeat(Math.round((done / total) * width)).padEnd(width, '-')}] ${done}/${total}`
          : `${phase} ${done}`;
      process.stderr.write(`\r${text.padEnd(60)}`);
    },
    done: () => {
      if (shown) process.stderr.write('\r'.padEnd(61) + '\r');
    },
  };
}
