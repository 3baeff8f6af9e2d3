// Worker bootstrap. The server runs TypeScript through tsx, either as `node --import tsx` (tests)
// or through tsx's register() API (bin/flotilla.js); a worker thread inherits neither the
// register() hooks nor (with execArgv: [], as pool.ts starts it) the flags, so register tsx here,
// exactly once, and then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
