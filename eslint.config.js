// @ts-check
import js from "@eslint/js"
import tseslint from "typescript-eslint"

/**
 * Module boundaries of DESIGN.md: which internal modules each module may import, always through
 * its index.ts, or through one of the lean faces below. config, store, redact and clients are leaves
 * (store and clients may name config's one error shape, config/error.ts, and its one atomic file
 * writer, config/atomic.ts, and nothing else); wire (JSON-RPC framing) is a leaf too, which
 * downstream, gateway and httpapi may import; cli wires everything.
 */
const allowed = {
    config: [],
    store: ["config/error", "config/atomic"],
    redact: [],
    wire: [],
    search: [],
    secrets: ["store", "config"],
    downstream: ["secrets", "redact", "store", "config", "wire"],
    gateway: ["downstream", "secrets", "redact", "store", "config", "wire", "search"],
    httpapi: ["gateway", "secrets", "store", "redact", "config", "wire", "search"],
    clients: ["config/error", "config/atomic"],
}

/**
 * Faces that load less than their module's index.ts, for the start of `secret get`
 * (DESIGN.md, Modules):
 * esbuild splits chunks by file, so importing an index.ts loads all it re-exports. config/error
 * and config/atomic are also what the leaves store and clients may name of config.
 */
const faces = { store: ["store/conn"], secrets: ["secrets/read"], config: ["config/error", "config/atomic"] }

/** What a module importing `deps` may name: each dep's index.ts or lean face. */
const entries = deps => [...deps.map(d => d.includes("/") ? d : `${d}/index`), ...deps.flatMap(d => faces[d] ?? [])].join("|")

const boundaries = Object.entries(allowed).map(([mod, deps]) => ({
    files: [`internal/${mod}/**/*.ts`],
    rules: {
        "no-restricted-imports": ["error", {
            patterns: [{
                regex: deps.length
                    ? `^\\.\\./(?!(${entries(deps)})\\.ts$)`
                    : "^\\.\\./",
                message: deps.length
                    ? `internal/${mod} may import only ${deps.map(d => d.includes("/") ? `../${d}.ts` : `../${d}/index.ts`).join(", ")} (DESIGN.md, Modules)`
                    : `internal/${mod} is a leaf module: it imports no other internal module (DESIGN.md, Modules)`,
            }],
        }],
    },
}))

export default tseslint.config(
    { ignores: ["dist/", "node_modules/", "migrations/", "test/artifacts/", ".*/"] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            parserOptions: { projectService: { allowDefaultProject: ["*.js"] }, tsconfigRootDir: import.meta.dirname },
        },
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/consistent-type-imports": "error",
            "no-console": "error",
        },
    },
    {
        files: ["internal/cli/**/*.ts"],
        rules: {
            "no-restricted-imports": ["error", {
                patterns: [{ regex: `^\\.\\./(?!([^/]+/index|${Object.values(faces).flat().join("|")})\\.ts$)`, message: "use a module through its index.ts (DESIGN.md, Modules)" }],
            }],
        },
    },
    ...boundaries,
    {
        files: ["test/**/*.ts", "bench/**/*.ts", "*.js"],
        rules: { "no-console": "off" },
    },
    {
        files: ["test/**/*.ts"],
        rules: {
            // node:test's test() returns a promise that the runner awaits itself
            "@typescript-eslint/no-floating-promises": "off",
        },
    },
    {
        files: ["*.js"],
        ...tseslint.configs.disableTypeChecked,
    },
)
