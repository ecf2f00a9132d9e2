import { createRequire } from "node:module"
import type * as Y from "yaml"

let lib: typeof Y | undefined

/**
 * The yaml package, loaded on first use: commands that need only `paths` (`secret get`) never
 * parse a config. `load` calls `preload` first, which imports the copy esbuild bundled into a
 * chunk of its own (one file, about 10 ms sooner than requiring the package's many files); a
 * caller of `parse` alone gets the package through require.
 */
export function yaml(): typeof Y {
    return lib ??= createRequire(import.meta.url)("yaml") as typeof Y
}

/** Loads the yaml package ahead of a `parse`. */
export async function preload(): Promise<void> {
    // a CommonJS package: its exports object is the default export, whoever bundled it
    const m = await import("yaml") as typeof Y & { default?: typeof Y }
    lib ??= m.default ?? m
}

/**
 * How deep flow collections (`[…]`, `{…}`) may nest. yaml composes them recursively: at a few
 * thousand levels it reports a stack overflow, and at ten thousand Node aborts the process (out
 * of memory compiling a RegExp near the stack's end), which no try can catch. A config needs
 * about six levels.
 */
export const maxDepth = 64

/** Flow collections nested deeper than maxDepth, at `offset` in the text. */
export class TooDeep extends Error {
    offset: number

    constructor(offset: number) {
        super(`collections nest more than ${maxDepth} levels deep`)
        this.name = "TooDeep"
        this.offset = offset
    }
}

/**
 * yaml's parseDocument (the first document, an error for any later one), lexing the text once
 * and throwing TooDeep as soon as flow collections nest deeper than maxDepth, before anything
 * recursive sees them.
 */
export function document(text: string, options: Y.ParseOptions & Y.DocumentOptions & Y.SchemaOptions = {}): Y.Document.Parsed {
    const Yl = yaml()
    const parser = new Yl.Parser(options.lineCounter?.addNewLine)
    const tokens = function* (): Generator<Y.CST.Token> {
        options.lineCounter?.addNewLine(0)
        // flow collections open, and block collections opened on the current line ("a: b: c:",
        // "- - -"), each a level of yaml's recursive parser
        let depth = 0, line = 0
        let scalar = false
        for (const lexeme of new Yl.Lexer().lex(text)) {
            // the lexeme after the scalar mark is the scalar's own text, whatever it holds
            if (scalar) scalar = false
            else if (lexeme === "\x1f") scalar = true
            else if (lexeme === "[" || lexeme === "{") {
                if (++depth > maxDepth) throw new TooDeep(parser.offset)
            } else if ((lexeme === "]" || lexeme === "}") && depth > 0) depth--
            else if (lexeme === "\n" || lexeme === "\r\n") line = 0
            else if (depth === 0 && (lexeme === ":" || lexeme === "-" || lexeme === "?") && ++line > maxDepth) throw new TooDeep(parser.offset)
            yield* parser.next(lexeme)
        }
        yield* parser.end()
    }
    let doc: Y.Document.Parsed | undefined
    try {
        for (const d of new Yl.Composer(options).compose(tokens(), true, text.length)) {
            if (doc === undefined) doc = d
            else {
                doc.errors.push(new Yl.YAMLParseError([d.range[0], d.range[1]], "MULTIPLE_DOCS", "Source contains multiple documents; please use YAML.parseAllDocuments()"))
                break
            }
        }
    } catch (e) {
        // what the counts above miss (thousands of levels by indentation alone) overflows the stack
        if (e instanceof RangeError) throw new TooDeep(parser.offset)
        throw e
    }
    // compose(…, true) always yields a document, an empty one for an empty text
    return doc as Y.Document.Parsed
}
