/**
 * Runs one emotion-eval command in this process and prints its exit code, wall time and peak RSS
 * (process.resourceUsage().maxRSS) as JSON on the last line: how the memory benchmark measures.
 */
import { main } from '../../harness/cli.ts';

const started = performance.now();
const code = await main(['node', 'emotion-eval', ...process.argv.slice(2)]);
const maxRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  `\n${JSON.stringify({ code, seconds: (performance.now() - started) / 1000, maxRssMiB })}\n`,
);
process.exitCode = code;
