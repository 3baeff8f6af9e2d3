// Flotilla as a library: start a server inside a test suite and point the AWS SDKs at `endpoint`.
export { startFlotilla, type Flotilla } from './server/server.ts';
export type { FlotillaOptions } from './server/config.ts';
