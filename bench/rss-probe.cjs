// Preloaded into a CLI process by the bench (`node --require ./bench/rss-probe.cjs dist/cli.js …`):
// when the process exits, writes its peak resident set size (getrusage ru_maxrss, KiB on Linux)
// to the file named by LEVELSYNC_BENCH_RSS_FILE. The process's own figure, whatever it allocates.
'use strict';
const file = process.env.LEVELSYNC_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    require('node:fs').writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
