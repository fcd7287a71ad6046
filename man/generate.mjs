/**
 * Writes man/mailgit.1 from the command table (src/cli/manPage.ts); run by `npm run build`
 * after tsc, so the page and `--help` never disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { manPage } from '../dist/cli/manPage.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
writeFileSync(new URL('./mailgit.1', import.meta.url), manPage(version));
