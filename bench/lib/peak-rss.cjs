/**
 * Preloaded (`node -r bench/lib/peak-rss.cjs …`) into a program the benchmark runs as users do (`reltape sessions`):
 * when the process exits, it writes its peak resident memory (VmHWM of /proc/self/status, in kB) to the file named
 * by RELTAPE_BENCH_PEAK_FILE. Read by the process itself at its last moment, so nothing is missed between the
 * last sample and the exit. CommonJS so that `-r` loads it before the program's own modules; it adds a few kB.
 */
'use strict'
const { readFileSync, writeFileSync } = require('node:fs')

const file = process.env.RELTAPE_BENCH_PEAK_FILE
delete process.env.RELTAPE_BENCH_PEAK_FILE
if (file) {
  process.on('exit', () => {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    writeFileSync(file, m ? m[1] : '')
  })
}
