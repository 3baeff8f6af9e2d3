#!/usr/bin/env node
// Runs the compiled build (dist/, made by `npm run build`, which `npm install` runs through `prepare`).
await import('../dist/cli/main.js');
