/**
 * The obvious mistakes a new user makes while following the README's sections on the tool list
 * and the keys, each answered with what went wrong, the value quoted and the way out: a tool that
 * is not withheld, a typo in a tool name, options a subcommand does not take, an impossible or
 * past expiry, a key protected already, a file that is not an export, a -R file that is missing
 * or empty, a promote of nothing.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, run } from "../helpers.ts"
import { clean, fixture, home, planted } from "./kit.ts"

async function keys(): Promise<string> {
    const h = await fresh(null)
    await writeFile(join(h, "config.yaml"), "auth_scopes:\n  gh: {}\nservers: {}\n", { mode: 0o600 })
    assert.equal((await run(h, ["init"])).code, 0)
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    return h
}

test("tools approve of a tool that is not withheld says so, rather than naming another tool", async () => {
    const h = await home({ rug: fixture("rug-server.ts", { env: { RUG_VERSION: "1" } }) })
    assert.equal((await run(h, ["tools"])).code, 0)
    const r = await run(h, ["tools", "approve", "rug__plain"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: tool "rug__plain" is not withheld: its definition is the approved one, so there is nothing to approve$/m)
    assert.match(r.stderr, /^mcplexer: hint: no tool is withheld now$/m)
    assert.doesNotMatch(r.stderr, /did you mean/)
    const typo = await run(h, ["tools", "approve", "rug__plian"])
    assert.equal(typo.code, 1)
    assert.match(typo.stderr, /^mcplexer: error: no withheld tool matches "rug__plian", nor does any other tool$/m)
    assert.match(typo.stderr, /^mcplexer: hint: did you mean "rug__plain"\?$/m)
    clean(r, typo)
})

test("tools diff of a mistyped name names the nearest tool", async () => {
    const h = await home({ rug: fixture("rug-server.ts") })
    const r = await run(h, ["tools", "diff", "rug__ad"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: unknown tool "rug__ad"$/m)
    assert.match(r.stderr, /^mcplexer: hint: did you mean "rug__add"\?$/m)
})

test("tools lists what it leaves out: withheld tools and switched-off ones, with the command that shows them", async () => {
    const h = await home({ rug: fixture("rug-server.ts", { quarantine: true, tools: { disabled: ["plain"] } }) })
    const r = await run(h, ["tools"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^2 tools are withheld until you approve them \(changed, or on a quarantined server\): mcplexer tools changed$/m)
    assert.match(r.stderr, /^1 tool is switched off: mcplexer tools --all lists it$/m)
    const all = await run(h, ["tools", "--all"])
    assert.doesNotMatch(all.stderr, /withheld until|switched off:/)
})

test("the tools subcommands take only their own options: --json and --all of tools are not silently ignored", async () => {
    const h = await home({ rug: fixture("rug-server.ts") })
    const help = await run(h, ["tools", "disable", "--help"])
    assert.doesNotMatch(help.stdout, /--all|--json/)
    assert.match((await run(h, ["tools", "--help"])).stdout, /--all/)
    assert.match((await run(h, ["tools", "refresh", "--help"])).stdout, /--json/)
    const r = await run(h, ["tools", "disable", "rug__plain", "--json"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: unknown option "--json"$/m)
    assert.match(r.stderr, /^mcplexer: hint: run "mcplexer tools disable --help" for usage$/m)
})

test("a usage mistake in a tools or secret subcommand points at that subcommand's help", async () => {
    const h = await home({})
    for (const words of [["tools", "disable"], ["tools", "diff"], ["secret", "promote", "gh"], ["secret", "export"]]) {
        const r = await run(h, words)
        assert.equal(r.code, 2, words.join(" "))
        const sub = words.filter(w => w !== "gh").join(" ")
        assert.match(r.stderr, new RegExp(`^mcplexer: hint: run "mcplexer ${sub} --help" for usage$`, "m"), r.stderr)
    }
})

test("tools search --limit quotes what was typed when it is not a positive whole number", async () => {
    const h = await home({})
    for (const bad of ["abc", "0", "2.5"]) {
        const r = await run(h, ["tools", "search", "x", "--limit", bad])
        assert.equal(r.code, 2)
        assert.match(r.stderr, new RegExp(`^mcplexer: error: --limit must be a positive whole number, not "${bad.replace(".", "\\.")}"$`, "m"))
    }
})

test("--expires refuses a day the calendar lacks and a zero duration, and says when a date is past", async () => {
    const h = await keys()
    const feb = await run(h, ["secret", "put", "gh", "X", "--expires", "2027-02-30"], { input: "a value for x 1234" })
    assert.equal(feb.code, 2)
    assert.match(feb.stderr, /^mcplexer: error: --expires "2027-02-30" is not a day of the calendar$/m)
    const zero = await run(h, ["secret", "put", "gh", "X", "--expires", "0d"], { input: "a value for x 1234" })
    assert.equal(zero.code, 2)
    assert.match(zero.stderr, /^mcplexer: error: --expires "0d" is no time from now$/m)
    assert.doesNotMatch((await run(h, ["secret", "list"])).stdout, /^gh +X /m)
    const past = await run(h, ["secret", "put", "gh", "X", "--expires", "2020-01-01"], { input: "a value for x 1234" })
    assert.equal(past.code, 0)
    assert.match(past.stderr, /^mcplexer: warning: --expires "2020-01-01" is in the past: gh\/X counts as expired from now on$/m)
    assert.match(past.stderr, /^mcplexer: hint: if that is a typo, store it again with the right date: mcplexer secret put gh X --expires <date>$/m)
    const leap = await run(h, ["secret", "put", "gh", "Y", "--expires", "2032-02-29"], { input: "a value for y 1234" })
    assert.equal(leap.code, 0, leap.stderr)
    assert.doesNotMatch(leap.stderr, /past/)
})

test("a duration option given a negative value quotes it and says it must be positive, with or without =", async () => {
    const h = await keys()
    // before: yargs read "-5d" as the flags -5 and -d ("unexpected argument "5"") and "-1h" as
    // --help (the help, exit 0, no rows)
    const cases: [string[], string, RegExp][] = [
        [["secret", "put", "gh", "X"], "--expires", /^mcplexer: hint: give a duration from now such as 30d or 12h, or a date \(2027-01-31\); it must be positive$/m],
        [["audit"], "--since", /^mcplexer: hint: give a duration such as 30m, 24h or 7d .*; it must be positive$/m],
        [["approve", "1"], "--for", /^mcplexer: hint: give a duration such as 10m or 1h; it must be positive$/m],
    ]
    for (const [words, flag, hint] of cases) {
        for (const value of ["-5d", "-1h", "-1"]) {
            for (const args of [[...words, flag, value], [...words, `${flag}=${value}`]]) {
                const r = await run(h, args, { input: "a value for x 1234" })
                assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`)
                assert.match(r.stderr, new RegExp(`^mcplexer: error: ${flag} "${value}" is negative$`, "m"), args.join(" "))
                assert.match(r.stderr, hint, args.join(" "))
                assert.equal(r.stdout, "", args.join(" "))
            }
        }
    }
    assert.doesNotMatch((await run(h, ["secret", "list"])).stdout, /^gh +X /m)
})

test("a duration option with no value, or a flag where its value goes, says it needs one", async () => {
    const h = await keys()
    for (const args of [["secret", "put", "gh", "X", "--expires"], ["secret", "put", "gh", "X", "--expires", "--next"], ["audit", "--since"], ["audit", "--since", "-x"]]) {
        const r = await run(h, args, { input: "a value for x 1234" })
        const flag = args.find(a => a === "--expires" || a === "--since")!
        assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`)
        assert.match(r.stderr, new RegExp(`^mcplexer: error: ${flag} needs a value$`, "m"), args.join(" "))
        assert.match(r.stderr, new RegExp(`^mcplexer: hint: a value that starts with "-" goes after "=": ${flag}=<value>$`, "m"))
        assert.doesNotMatch(r.stderr, /this is a bug/)
    }
    assert.doesNotMatch((await run(h, ["secret", "list"])).stdout, /^gh +X /m)
})

test("key protect on a key protected already says so before asking for a new passphrase", async () => {
    const h = await keys()
    const pass = join(h, "pass")
    await writeFile(pass, "correct horse battery\n", { mode: 0o600 })
    const first = await run(h, ["key", "protect"], { env: { MCPLEXER_PASSPHRASE_FILE: pass } })
    assert.equal(first.code, 0, first.stderr)
    // no terminal and no passphrase file: before, it asked for the new passphrase and failed on that
    const again = await run(h, ["key", "protect"])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /^mcplexer: error: key file ".*age\.key" is already protected by a passphrase$/m)
    assert.match(again.stderr, /^mcplexer: hint: to change how it is protected, run `mcplexer key unprotect` first$/m)
    assert.doesNotMatch(again.stderr, /no terminal/)
})

test("key protect names the earlier keys left unprotected only when there are some", async () => {
    const h = await keys()
    const pass = join(h, "pass")
    await writeFile(pass, "correct horse battery\n", { mode: 0o600 })
    const r = await run(h, ["key", "protect"], { env: { MCPLEXER_PASSPHRASE_FILE: pass } })
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /old-/)
    assert.match(r.stderr, /^mcplexer: hint: backups of the key file you made are not protected: remove them, or protect them with age -p$/m)
    assert.equal((await run(h, ["key", "unprotect"], { env: { MCPLEXER_PASSPHRASE_FILE: pass } })).code, 0)
    assert.equal((await run(h, ["key", "rotate"])).code, 0)
    const old = readdirSync(h).filter(n => n.startsWith("age.key.old-"))
    assert.equal(old.length, 1)
    const again = await run(h, ["key", "protect"], { env: { MCPLEXER_PASSPHRASE_FILE: pass } })
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, new RegExp(`^mcplexer: hint: earlier keys kept beside it \\(.*${old[0]!.replace(/[.]/g, "\\.")}\\) and backups you made are not protected`, "m"))
})

test("secret import of a file that is not an age file, or of no file, says which", async () => {
    const h = await keys()
    const r = await run(h, ["secret", "import", join(h, "config.yaml")])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: ".*config\.yaml" is not an age file$/m)
    assert.doesNotMatch(r.stderr, /not encrypted to this key/)
    const none = await run(h, ["secret", "import", join(h, "missing.age")])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^mcplexer: error: cannot read ".*missing\.age": no such file$/m)
})

test("secret import of a damaged age file says it is damaged, not that it was encrypted to another key", async () => {
    const h = await keys()
    const good = join(h, "gh.age")
    assert.equal((await run(h, ["secret", "export", "gh", "-o", good])).code, 0)
    const text = readFileSync(good).toString("latin1")
    // the header is text: "-> X25519 <share>", the wrapped key's body line, "--- <MAC>"
    const [intro, stanza, body, mac] = text.split("\n")
    const other = (c: string) => (c === "A" ? "B" : "A")
    const damaged: Record<string, string> = {
        "a share of the wrong length": text.replace(stanza!, stanza!.slice(0, -1)),
        "a body that is not base64": text.replace(`\n${body!}\n`, `\n${body!.slice(0, -2)}!!\n`),
        "a header MAC that does not verify": text.replace(mac!, mac!.slice(0, 10) + other(mac![10]!) + mac!.slice(11)),
        "a payload byte flipped": text.slice(0, -5) + String.fromCharCode(text.charCodeAt(text.length - 5) ^ 1) + text.slice(-4),
    }
    assert.equal(intro, "age-encryption.org/v1")
    assert.match(stanza!, /^-> X25519 /)
    for (const [what, bytes] of Object.entries(damaged)) {
        const file = join(h, "damaged.age")
        await writeFile(file, Buffer.from(bytes, "latin1"))
        const r = await run(h, ["secret", "import", file])
        assert.equal(r.code, 1, what)
        assert.match(r.stderr, /^mcplexer: error: cannot decrypt the file with the key /m, what)
        assert.match(r.stderr, /^mcplexer: hint: the file is damaged or is not an age file: ask for it to be exported again/m, `${what}: ${r.stderr}`)
        assert.doesNotMatch(r.stderr, /not encrypted to this key/, what)
        clean(r)
    }
    // a whole file for another key (Go's age) still says so
    const key = join(h, "other.key"), theirs = join(h, "theirs.age")
    execFileSync("age-keygen", ["-o", key], { stdio: "pipe" })
    const recipient = execFileSync("age-keygen", ["-y", key], { encoding: "utf8" }).trim()
    execFileSync("age", ["-r", recipient, "-o", theirs], { input: "{}" })
    const foreign = await run(h, ["secret", "import", theirs])
    assert.equal(foreign.code, 1)
    assert.match(foreign.stderr, /^mcplexer: hint: it was not encrypted to this key: ask for it to be exported to your public key/m)
    assert.doesNotMatch(foreign.stderr, /damaged/)
})

test("secret export -R: a missing file names the flag, and a file with no key is refused rather than ignored", async () => {
    const h = await keys()
    const missing = await run(h, ["secret", "export", "gh", "-R", join(h, "nope.txt"), "-o", join(h, "a.age")])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^mcplexer: error: cannot read the recipients file ".*nope\.txt" given with -R: no such file$/m)
    assert.doesNotMatch(missing.stderr, /recipients_file/)
    await writeFile(join(h, "empty.txt"), "# nobody yet\n\n")
    const empty = await run(h, ["secret", "export", "gh", "-R", join(h, "empty.txt"), "-o", join(h, "b.age")])
    assert.equal(empty.code, 1)
    assert.match(empty.stderr, /^mcplexer: error: the recipients file ".*empty\.txt" given with -R holds no age public key$/m)
    assert.ok(!readdirSync(h).includes("b.age"), "nothing is written")
    clean(missing, empty)
})

test("secret promote of an undeclared scope or of a key not stored says that, not that nothing is staged", async () => {
    const h = await keys()
    const scope = await run(h, ["secret", "promote", "gj", "TOKEN"])
    assert.equal(scope.code, 1)
    assert.match(scope.stderr, /^mcplexer: error: scope "gj" is not declared in /m)
    const key = await run(h, ["secret", "promote", "gh", "TOKN"])
    assert.equal(key.code, 1)
    assert.match(key.stderr, /^mcplexer: error: secret "gh\/TOKN" is not stored, so there is nothing to promote$/m)
    assert.match(key.stderr, /^mcplexer: hint: did you mean "TOKEN"\?$/m)
    const staged = await run(h, ["secret", "promote", "gh", "TOKEN"])
    assert.match(staged.stderr, /^mcplexer: error: no value is staged beside secret "gh\/TOKEN"$/m)
})

test("a glob whose server part is misspelled names the glob with the nearest server", async () => {
    const h = await home({ rug: fixture("rug-server.ts") })
    const r = await run(h, ["tools", "disable", "rgu__*"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: no tool matches "rgu__\*"$/m)
    assert.match(r.stderr, /^mcplexer: hint: did you mean "rug__\*"\? \(no server is named "rgu"\)$/m)
})

test("tools diff of a quarantined tool heads the empty side in one pair of parentheses", async () => {
    const h = await home({ rug: fixture("rug-server.ts", { quarantine: true }) })
    const r = await run(h, ["tools", "diff", "rug__plain"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^--- rug__plain \(never approved: its server is quarantined\)$/m)
})

test("a wrong passphrase in MCPLEXER_PASSPHRASE_FILE is named as that file's, not as one to type again", async () => {
    const h = await keys()
    const pass = join(h, "pass"), wrong = join(h, "wrong")
    await writeFile(pass, "correct horse battery\n", { mode: 0o600 })
    await writeFile(wrong, "incorrect horse\n", { mode: 0o600 })
    assert.equal((await run(h, ["key", "protect"], { env: { MCPLEXER_PASSPHRASE_FILE: pass } })).code, 0)
    for (const args of [["secret", "get", "gh", "TOKEN"], ["secret", "export", "gh", "-o", join(h, "x.age")]]) {
        const r = await run(h, args, { env: { MCPLEXER_PASSPHRASE_FILE: wrong } })
        assert.equal(r.code, 1)
        assert.match(r.stderr, /^mcplexer: error: wrong passphrase for key file ".*age\.key"$/m)
        assert.match(r.stderr, /^mcplexer: hint: the passphrase in ".*wrong" \(named by MCPLEXER_PASSPHRASE_FILE\) does not open it; nothing was changed$/m)
        assert.doesNotMatch(r.stderr, /try again/)
        clean(r)
    }
})

test("secret get of a mistyped key names the stored key of its scope it is nearest to", async () => {
    const h = await keys()
    const key = await run(h, ["secret", "get", "gh", "TOKN"])
    assert.equal(key.code, 1)
    assert.match(key.stderr, /^mcplexer: error: secret "gh\/TOKN" not found$/m)
    assert.match(key.stderr, /^mcplexer: hint: did you mean "gh\/TOKEN"\?$/m)
    const far = await run(h, ["secret", "get", "gh", "SOMETHING_ELSE"])
    assert.doesNotMatch(far.stderr, /did you mean/)
    clean(key, far)
})
