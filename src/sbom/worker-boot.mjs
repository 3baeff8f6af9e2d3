// Worker bootstrap when the server runs from the TypeScript sources (`node --import tsx`: tests, `npm run dev`).
// A worker thread started with execArgv: [] (as pool.ts starts it) does not inherit the flag, so register tsx
// here, exactly once, and then load the TypeScript worker. The compiled build (dist/) starts worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
