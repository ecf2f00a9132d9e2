// esbuild inlines the JSON, so the version is the one the package was built from; package.json is
// data, not one of the modules the boundary rule is about
// eslint-disable-next-line no-restricted-imports
import pkg from "../../package.json" with { type: "json" }

/** This build's version, from package.json. */
export const version: string = pkg.version
