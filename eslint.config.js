// @ts-check
import js from "@eslint/js"
import tseslint from "typescript-eslint"

/**
 * Module boundaries of DESIGN.md: which internal modules each module may import, always through
 * its index.ts. config, store and redact are leaves; cli wires everything.
 */
const allowed = {
    config: [],
    store: [],
    redact: [],
    secrets: ["store", "config"],
    downstream: ["secrets", "redact", "store", "config"],
    gateway: ["downstream", "secrets", "redact", "store", "config"],
    httpapi: ["gateway", "secrets", "store", "redact", "config"],
}

const boundaries = Object.entries(allowed).map(([mod, deps]) => ({
    files: [`internal/${mod}/**/*.ts`],
    rules: {
        "no-restricted-imports": ["error", {
            patterns: [{
                regex: deps.length
                    ? `^\\.\\./(?!(${deps.join("|")})/index\\.ts$)`
                    : "^\\.\\./",
                message: deps.length
                    ? `internal/${mod} may import only ${deps.map(d => `../${d}/index.ts`).join(", ")} (DESIGN.md, Modules)`
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
                patterns: [{ regex: "^\\.\\./[^/]+/(?!index\\.ts$)", message: "use a module through its index.ts (DESIGN.md, Modules)" }],
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
