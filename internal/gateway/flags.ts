/**
 * Poisoning markers: text in a tool's definition that is aimed at the model rather than at the
 * person (hidden characters, instructions to ignore the user, requests to read keys). A flag
 * warns (doctor, the console); it never blocks: pins and switches are the user's means to act.
 * Pure: no I/O, so doctor, the console and tests share it.
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js"

/** One thing found in one field of a tool's definition. */
export interface Flag {
    /** where: "description", "title", "name" or "input <param path>" */
    field: string
    /** what was found, said for a person, e.g. `zero-width character U+200B` */
    found: string
}

// Characters a person does not see but a model reads: each named by its code point when found.
/* eslint-disable no-control-regex -- finding control characters is the point */
const hidden: Array<[RegExp, string]> = [
    [/[\u200B-\u200D\u2060\uFEFF\u180E]/u, "zero-width character"],
    [/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u, "bidirectional control"],
    [/\u001B/u, "ANSI escape"],
    [/[\u{E0000}-\u{E007F}]/u, "Unicode tag character"],
    [/[\u0000-\u0008\u000B\u000C\u000E-\u001A\u001C-\u001F\u007F-\u009F]/u, "control character"],
]
/* eslint-enable no-control-regex */

// Text that speaks to the model over the user's head. Each pattern is a phrase seen in published
// tool-poisoning examples (Invariant Labs' "<IMPORTANT>" attack, the "rug pull"), kept narrow so
// the twelve reference servers' 95 tools raise none (test/gateway/flags.test.ts checks that).
const instructions: Array<[RegExp, string]> = [
    [/<\s*\/?\s*(important|system|instructions?|secret|hidden)\b[^>]*>/i, "a tag aimed at the model"],
    [/\b(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|other)\s+(instructions|prompts?|rules|messages)/i, "an instruction to ignore previous instructions"],
    [/\b(do\s+not|don'?t|never)\s+(tell|inform|mention|reveal|show|alert|notify)\b[^.]{0,40}\b(user|human|person)/i, "an instruction to hide something from the user"],
    [/(~|\$HOME|%USERPROFILE%)?[\\/]?\.(ssh|aws|gnupg|kube|docker)[\\/]|\bid_(rsa|dsa|ecdsa|ed25519)\b|[\\/]etc[\\/](passwd|shadow)\b|\.netrc\b|\.npmrc\b|\bmcp\.json\b|\.mcplexer\b/i, "a path to keys or credentials"],
    [/\b(read|cat|open|send|pass|include|upload|exfiltrate)\b[^.]{0,60}\b(private\s+key|ssh\s+key|api\s+keys?|credentials|passwords?|tokens?|secrets?|\.env)\b[^.]{0,60}\b(as|in(to)?|to)\b[^.]{0,30}\b(argument|parameter|param|field|sidenote|request|url)/i, "a request to pass keys or files through an argument"],
    [/\b(before|prior\s+to)\s+(using|calling)\s+(this|any|the)\s+tool\b[^.]{0,80}\b(read|open|cat)\b/i, "an instruction to read something before the call"],
]

/** Every marker in `tool`'s name, title, description and parameter descriptions, in that order. */
export function flags(tool: Pick<Tool, "name" | "description" | "inputSchema"> & { title?: string }): Flag[] {
    const out: Flag[] = []
    const look = (field: string, text: string | undefined) => {
        if (!text) return
        for (const [re, what] of hidden) {
            const m = re.exec(text)
            if (m) out.push({ field, found: `${what} ${codepoint(m[0])}` })
        }
        for (const [re, what] of instructions) {
            const m = re.exec(text)
            if (m) out.push({ field, found: `${what}: ${JSON.stringify(clip(m[0]))}` })
        }
    }
    look("name", tool.name)
    look("title", tool.title)
    look("description", tool.description)
    walk(tool.inputSchema, "input", look)
    return out
}

/** Each parameter's name and description, nested objects and array items included. */
function walk(schema: unknown, path: string, look: (field: string, text: string | undefined) => void, depth = 0): void {
    if (depth > 16 || schema === null || typeof schema !== "object") return
    const s = schema as { description?: unknown; properties?: unknown; items?: unknown }
    if (path !== "input" && typeof s.description === "string") look(path, s.description)
    if (s.properties !== null && typeof s.properties === "object") {
        for (const [name, sub] of Object.entries(s.properties as Record<string, unknown>)) {
            const at = `${path} ${name}`
            look(at, name === name.trim() && !/[^\x20-\x7e]/.test(name) ? undefined : name)
            walk(sub, at, look, depth + 1)
        }
    }
    if (s.items !== undefined) walk(s.items, `${path}[]`, look, depth + 1)
}

function codepoint(ch: string): string {
    return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`
}

function clip(s: string): string {
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
}
