/** The sandbox: a local stand-in for the API, and a scripted client that plays a support chat against it. */
export { startSandbox, buildSandboxApp, buildAppPageServer, SandboxPortInUseError, API_PREFIX, type Sandbox, type SandboxOptions, type SandboxAppOptions } from './server.js'
export { SANDBOX_TOKENS, type SandboxRole } from './tokens.js'
export { SandboxState, SANDBOX_DRIFT, AVATAR_FILE_ID, TEXT_FILE_ID, CHAT_ID, CUSTOMER_CLIENT_ID, OPERATOR_USER_ID } from './state.js'
export { PNG_SIGNATURE } from './png.js'
export { playStory, STORY_PLAN, type StoryOptions, type StoryResult, type StoryStep } from './story.js'
export { chooseEncoding, ALLOW_HEADERS, ALLOW_METHODS, type Encoding } from './http.js'
