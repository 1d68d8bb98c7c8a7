import { defineConfig } from 'vite'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: './',
  build: { outDir: fileURLToPath(new URL('../../dist/ui', import.meta.url)), emptyOutDir: true },
  logLevel: 'warn',
})
