import type { Command } from '../command.js'
import { caCommand } from './ca.js'
import { demoCommand } from './demo.js'
import { recordCommand } from './record.js'
import { replayCommand } from './replay.js'
import { sandboxCommand } from './sandbox.js'
import { sessionsCommand } from './sessions.js'
import { viewCommand } from './view.js'

/** Every subcommand, in the order `reltape --help` lists them. */
export const commands: Command[] = [demoCommand, recordCommand, viewCommand, replayCommand, sessionsCommand, sandboxCommand, caCommand]
