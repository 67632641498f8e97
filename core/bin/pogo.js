#!/usr/bin/env node
// Thin launcher so the `pogo` bin link exists before dist/ is built (npm links
// bins before the root postinstall compiles core). It runs the CLI's bundle
// (one file: see core/rolldown.config.mjs for what it holds and why) with
// V8's code cache (bundle.js).
import { runBundle } from './bundle.js';

runBundle();
