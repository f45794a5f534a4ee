#!/usr/bin/env node
// The supervisor loads neither isolated-vm nor uWS; the front ends it forks
// get --no-node-snapshot themselves.
import { main } from "../dist/runtime/cli.js";

await main(process.argv.slice(2));
