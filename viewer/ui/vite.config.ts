import { defineConfig } from 'vite'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  // Relative asset URLs: the server serves dist/ui at `/`, and deep links live in the hash, so any path works.
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../../dist/ui', import.meta.url)),
    emptyOutDir: true,
    // The viewer's CSP is `script-src 'self'`: the preload polyfill would be an inline script.
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: true,
  },
  logLevel: 'warn',
})
