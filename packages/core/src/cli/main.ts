#!/usr/bin/env node
/**
 * The `weft` bin: turns on the V8 code cache ({@link installCompileCache}),
 * then loads the command line program (`./weft`) through it, so that the
 * program and its dependencies start from cached bytecode.
 */
import { join } from 'node:path';
import { installCompileCache } from './compile-cache';

installCompileCache();
// A path computed at run time: the bundler leaves this require alone, so the program is compiled after the hook.
require(join(__dirname, 'weft.js'));
