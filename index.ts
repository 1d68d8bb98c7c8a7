/** reltape's programmatic API. */
export * from './model/index.js'
export { SessionStore, SessionWriter, SessionReader, readSessionFiles, SessionNotFoundError, type SessionSummary } from './store/store.js'
export { loadOrCreateCA, type CertificateAuthority } from './store/ca.js'
export { sessionsDir, reltapeHome } from './store/paths.js'
export { startReplay, type ReplayOptions, type ReplayHandle } from './replay/start-replay.js'
export { startRecorder, DEFAULT_MAX_BODY, PortInUseError, RecorderOptionError, SessionDirError, type Recorder, type RecorderOptions, type RecorderSummary } from './recorder/index.js'
export { startViewer, buildViewerApp, type ViewerOptions, type RunningViewer } from './viewer/server.js'
export { startSandbox, SANDBOX_TOKENS, type Sandbox, type SandboxOptions } from './sandbox/server.js'
