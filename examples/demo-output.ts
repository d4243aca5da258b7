/** The demo's output: timestamped lines, in colour only when stdout is a terminal (and NO_COLOR unset). */
const COLOR = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint =
  (code: number) =>
  (s: string): string =>
    COLOR ? `\x1b[${code}m${s}\x1b[0m` : s;
export const dim = paint(2);
export const bold = paint(1);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);
const t0 = performance.now();

/** A duration for humans: `<1 ms`, `1.67 ms`, `129 ms`. */
export const ms = (n: number): string =>
  Number.isInteger(n)
    ? n === 0
      ? '<1 ms'
      : `${n} ms`
    : n < 10
      ? `${n.toFixed(2)} ms`
      : `${Math.round(n)} ms`;

/** grpc-js details end with an empty "Resolution note:"; keep the lines short. */
export const brief = (message: string): string => message.replace(/\s*Resolution note:\s*/g, ' ').trim();

/** One line, stamped with the time since the demo started. */
export const log = (line = ''): void => {
  const stamp = `+${((performance.now() - t0) / 1000).toFixed(3)}s`.padStart(8);
  console.log(`${dim(stamp)} ${line}`);
};

/** A section title. */
export const heading = (title: string): void => {
  console.log('');
  log(bold(`== ${title} ==`));
};

/** A line without a time stamp, for what a user copies (a URL, a curl command). */
export const plain = (line = ''): void => {
  console.log(`         ${line}`);
};
