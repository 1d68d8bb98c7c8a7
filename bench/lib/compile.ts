/**
 * Bench children run as compiled JavaScript, as users run reltape (from dist/), not through tsx: tsx's loader
 * thread costs about 40 MB of memory and some CPU per process, which would be charged to reltape.
 * Each child script is bundled with esbuild (reltape's own code inlined, packages left to node_modules) into
 * node_modules/.cache/reltape-bench/, from where its imports still resolve. Linked source maps let
 * profile-summary map profiles back to the TypeScript files.
 */
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const outDir = fileURLToPath(new URL('../../node_modules/.cache/reltape-bench/', import.meta.url))
const built = new Map<string, Promise<string | null>>()

/** The compiled child script, or null when esbuild cannot be loaded (the caller falls back to tsx). */
export function compiledChild(script: string): Promise<string | null> {
  let out = built.get(script)
  if (!out) {
    out = (async () => {
      let esbuild: typeof import('esbuild')
      try {
        esbuild = await import('esbuild')
      } catch {
        return null
      }
      mkdirSync(outDir, { recursive: true })
      const outfile = `${outDir}${script}.mjs`
      await esbuild.build({
        entryPoints: [fileURLToPath(new URL(`../children/${script}.ts`, import.meta.url))],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        sourcemap: 'linked',
        logLevel: 'silent',
      })
      return outfile
    })()
    built.set(script, out)
  }
  return out
}
