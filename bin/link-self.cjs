// `npx tollgate` in a checkout: npm links the bins of a project's dependencies, never the
// project's own, so link it after install. Harmless where Tollgate is itself a dependency.
const { mkdirSync, rmSync, symlinkSync } = require('node:fs');

mkdirSync('node_modules/.bin', { recursive: true });
rmSync('node_modules/.bin/tollgate', { force: true });
symlinkSync('../../bin/tollgate.js', 'node_modules/.bin/tollgate');
