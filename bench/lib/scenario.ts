import type { ResultRow } from './results.js'

export type ScenarioContext = {
  /** A short smoke run: fewer requests and repetitions. Its numbers are noisier. */
  quick: boolean
  log: (message: string) => void
}

export type Scenario = {
  name: string
  describe: string
  run(context: ScenarioContext): Promise<ResultRow[]>
}
