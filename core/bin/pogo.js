#!/usr/bin/env node
// Thin launcher so the `pogo` bin link exists before dist/ is built (npm links
// bins before the root postinstall compiles core).
import '../dist/cli/main.js';
