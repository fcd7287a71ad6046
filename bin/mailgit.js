#!/usr/bin/env node
// Runtime warnings (a deprecation in a dependency) would break cron's silence and say
// nothing a mail user can act on; MAILGIT_DEBUG=1 keeps them.
if (!process.env.MAILGIT_DEBUG) process.removeAllListeners('warning');
const { run } = await import('../dist/cli/main.js');

await run();
