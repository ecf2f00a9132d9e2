#!/usr/bin/env node
import { main } from "../internal/cli/index.ts"
process.exitCode = await main(process.argv.slice(2))
