/**
 * Text to terms: the words of names (`github__create_pull_request`, `get-env`, `readFile2`) and of
 * prose, lowercased, without the little words every sentence has, each reduced to its stem.
 */
import { stemmer } from "stemmer"

/**
 * Words too common in a person's request to tell two tools apart. Kept small on purpose: "new",
 * "all", "get" and "who" stay, because tools' names and descriptions use them as real signal.
 */
export const stopwords: ReadonlySet<string> = new Set([
    "a", "an", "the", "to", "of", "in", "on", "at", "by", "for", "with", "from", "into", "onto", "as",
    "and", "or", "but", "so", "if", "then", "than", "be", "is", "are", "was", "were", "been", "am",
    "it", "its", "this", "that", "these", "those", "there", "here", "i", "me", "my", "mine", "we",
    "us", "our", "you", "your", "he", "she", "they", "them", "his", "her", "their", "what", "which",
    "how", "do", "does", "did", "can", "could", "would", "should", "will", "shall", "may", "might",
    "please", "some", "any", "just", "also", "about", "up", "out", "over", "very", "too", "s", "t",
    "let", "want", "need", "like", "one", "via", "using", "use", "whether", "etc", "e", "g", "ie",
])

/**
 * The words of a text or an identifier, lowercased, in order: split at anything not a letter or a
 * digit (so `__`, `_`, `-`, spaces and punctuation), at a lower-to-upper change (`camelCase`), at
 * the end of an acronym (`HTMLParser` → html, parser, but a plural acronym stays whole: `PRs` →
 * prs, not p, rs) and between letters and digits.
 */
export function words(text: string): string[] {
    return text
        .replace(/(?<=\p{Ll})(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}(?!s(?!\p{Ll}))\p{Ll})|(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/gu, " ")
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .filter(w => w !== "")
}

/**
 * Porter's algorithm runs a few common words together with words they do not mean: the exceptional
 * forms of its successor, Porter2 (Snowball English), are kept as Porter2 keeps them, so "news" is
 * not "new" (and so not "create").
 */
const exceptions: ReadonlyMap<string, string> = new Map([
    ["skis", "ski"], ["skies", "sky"], ["dying", "die"], ["lying", "lie"], ["tying", "tie"],
    ["idly", "idl"], ["gently", "gentl"], ["ugly", "ugli"], ["early", "earli"], ["only", "onli"], ["singly", "singl"],
    ["sky", "sky"], ["news", "news"], ["howe", "howe"], ["atlas", "atlas"], ["cosmos", "cosmos"], ["bias", "bias"], ["andes", "andes"],
])

/**
 * British and American spellings to one form before stemming, so a person who memorises, analyses
 * or picks a colour finds a tool that memorizes, analyzes or takes a color: -ise/-isation/-yse to
 * -ize/-ization/-yze, and -our to -or after the consonants those words have (so hour, four, your
 * and tour stay). Both the catalog and the request go through it, so a word that only looks British
 * (promise, raise) is changed the same on both sides and still matches itself.
 */
function american(word: string): string {
    if (word.length < 6) return word
    return word
        .replace(/(?<=[a-z]{3})is(e|es|ed|er|ers|ing|ation|ations)$/, "iz$1")
        .replace(/(?<=[a-z]{2})ys(e|es|ed|er|ers|ing)$/, "yz$1")
        .replace(/(?<=[a-z]{2}[lvbnmi])our(s|ed|ing|ite|ites|able)?$/, "or$1")
}

/** The stem of one lowercase word (Porter's algorithm, through the `stemmer` package). */
export function stem(word: string): string {
    return exceptions.get(word) ?? stemmer(american(word))
}

/** The terms of a text: its words without stopwords, stemmed. */
export function terms(text: string): string[] {
    return words(text).filter(w => !stopwords.has(w)).map(stem)
}
