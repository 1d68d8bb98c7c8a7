export * from './session.js'
export * from './auth.js'
export * from './summary.js'
