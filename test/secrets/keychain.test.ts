/**
 * The identity in the OS keychain: on Linux, gnome-keyring's Secret Service on a private D-Bus
 * session (dbus-run-session), unlocked as a login would. Needs the Debian packages gnome-keyring,
 * dbus-daemon (dbus-run-session) and libsecret-tools (secret-tool); skipped without them.
 */
import assert from "node:assert/strict"
import { execFileSync, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { cli, fresh, run } from "../helpers.ts"

const planted = "ghp_keychainPLANTED-5b1f0c3a-never-shown"

const missing = ["gnome-keyring-daemon", "dbus-run-session", "secret-tool", "gdbus"].filter(bin => {
    try {
        execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" })
        return false
    } catch {
        return true
    }
})
const skip = missing.length > 0 ? `needs ${missing.join(", ")} (apt-get install gnome-keyring dbus-daemon libsecret-tools libglib2.0-bin)` : false

// the whole session runs inside one D-Bus session, each step's output kept in a file of the home
const script = String.raw`
set -u
eval "$(printf 'pw\n' | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
step() { name=$1; shift; "$@" > "$name.out" 2> "$name.err"; echo $? > "$name.code"; }
M() { node "$CLI" "$@"; }
public() { sed -n 's/^# public key: //p' "$1"; }
step init M init
printf '%s' "$PLANTED" > value; step put sh -c 'node "$CLI" secret put gh TOKEN < value'; rm value
cp age.key plain.key
step protect M key protect --keychain
cp age.key ref.key
step get M secret get gh TOKEN
step lookup secret-tool lookup service mcplexer username "$(public ref.key)"
step rotate M key rotate
cp age.key rotated.key
step get2 M secret get gh TOKEN
step lookup2 secret-tool lookup service mcplexer username "$(public rotated.key)"
step unprotect M key unprotect
cp age.key back.key
step get3 M secret get gh TOKEN
step lookup3 secret-tool lookup service mcplexer username "$(public rotated.key)"
`

function session(h: string): Promise<number | null> {
    return new Promise((done, fail) => {
        const p = spawn("dbus-run-session", ["--", "bash", "-c", script], {
            cwd: h, stdio: "ignore",
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: h, MCPLEXER_HOME: h, CLI: cli, PLANTED: planted },
        })
        p.on("error", fail)
        p.on("close", done)
    })
}

test("the identity moves into the OS keychain and back: age.key holds a reference, secrets still open, rotate keeps it there", { skip, timeout: 240_000 }, async () => {
    const h = await fresh()
    await session(h)
    const file = (name: string) => existsSync(join(h, name)) ? readFileSync(join(h, name), "utf8") : ""
    for (const step of ["init", "put", "protect", "get", "lookup", "rotate", "get2", "lookup2", "unprotect", "get3"]) {
        assert.equal(file(`${step}.code`).trim(), "0", `${step}: ${file(`${step}.err`)}`)
    }
    const plain = file("plain.key")
    const pub = /^# public key: (age1\S+)$/m.exec(plain)?.[1]
    assert.ok(pub)
    // the reference: the documented three lines, no identity
    assert.equal(file("ref.key"), `# mcplexer: identity in the OS keychain, service "mcplexer", account "${pub}"\n# public key: ${pub}\n` +
        "# the identity is not in this file: `mcplexer key unprotect` brings it back here\n")
    assert.equal(file("lookup.out"), plain, "the keychain holds the key file's text")
    assert.equal(file("get.out"), planted)
    // a rotation writes the new identity into the keychain too, and the file stays a reference
    const rotated = file("rotated.key")
    assert.match(rotated, /^# mcplexer: identity in the OS keychain, service "mcplexer", account "age1/)
    assert.doesNotMatch(rotated, /AGE-SECRET-KEY/)
    assert.match(file("lookup2.out"), /^AGE-SECRET-KEY-1/m)
    assert.equal(file("get2.out"), planted)
    // unprotect: the key file is whole again, the keychain item gone
    assert.equal(file("back.key"), file("lookup2.out"))
    assert.equal(file("get3.out"), planted)
    // the identity's mark line (mark.test.ts) is in the keychain's text, before and after the rotation, and back in the file
    const mark = "# mcplexer: rows authenticated (a row without a MAC is never adopted)"
    for (const text of [plain, file("lookup.out"), file("lookup2.out"), file("back.key")]) assert.ok(text.split("\n").includes(mark), text.split("\n")[0])
    assert.notEqual(file("lookup3.code").trim(), "0", "the keychain item is still there")
    for (const name of ["protect", "get", "rotate", "unprotect"]) assert.ok(!file(`${name}.err`).includes(planted))
})

test("without a reachable keychain the error says so and how to go back", { skip, timeout: 120_000 }, async () => {
    const h = await fresh()
    const init = await run(h, ["init"])
    assert.equal(init.code, 0, init.stderr)
    const pub = /^# public key: (age1\S+)$/m.exec(readFileSync(join(h, "age.key"), "utf8"))?.[1] ?? ""
    const put = await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })
    assert.equal(put.code, 0, put.stderr)
    // the reference a protect --keychain leaves, read where no Secret Service answers (no D-Bus session)
    await writeFile(join(h, "age.key"), `# mcplexer: identity in the OS keychain, service "mcplexer", account "${pub}"\n# public key: ${pub}\n`, { mode: 0o600 })
    const before = readFileSync(join(h, "age.key"))
    for (const args of [["secret", "get", "gh", "TOKEN"], ["key", "unprotect"]]) {
        const r = await run(h, args, { env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent" } })
        assert.equal(r.code, 1, r.stderr)
        assert.match(r.stderr, /^mcplexer: error: .*OS keychain/m)
        assert.match(r.stderr, /^mcplexer: hint: .*(locked|absent).*mcplexer key unprotect/m)
    }
    assert.deepEqual(readFileSync(join(h, "age.key")), before)
})

// the keychain locked, and its unlock prompt shown where no one answers: the session's prompter
// (gcr-prompter, started by D-Bus on demand) is replaced by one that never comes up, as a prompt
// on a desktop nobody watches, or behind an ssh session, would. gnome-keyring gives up on it
// after 25 s (D-Bus's own limit); a prompt on a screen would wait for ever.
const locked = String.raw`
set -u
eval "$(printf 'pw\n' | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
step() { name=$1; shift; s=$(date +%s%N); "$@" > "$name.out" 2> "$name.err"; echo $? > "$name.code"; echo $(( ($(date +%s%N) - s) / 1000000 )) > "$name.ms"; }
M() { node "$CLI" "$@"; }
step init M init
printf '%s' "$PLANTED" > value; step put sh -c 'node "$CLI" secret put gh TOKEN < value'; rm value
step protect M key protect --keychain
cp age.key ref.key
step lock gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']"
export MCPLEXER_KEYCHAIN_TIMEOUT=3
step get M secret get gh TOKEN
step unprotect M key unprotect
`

test("a locked keychain whose unlock prompt no one answers fails within the time limit, saying it is locked and how to unlock", { skip, timeout: 240_000 }, async () => {
    const h = await fresh()
    await mkdir(join(h, "services"))
    await writeFile(join(h, "services", "org.gnome.keyring.SystemPrompter.service"), "[D-BUS Service]\nName=org.gnome.keyring.SystemPrompter\nExec=/bin/sleep 40\n")
    // the directory listed first wins over the system's gcr-prompter
    await writeFile(join(h, "bus.conf"), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><servicedir>${join(h, "services")}</servicedir><include>/usr/share/dbus-1/session.conf</include></busconfig>\n`)
    await new Promise<number | null>((done, fail) => {
        const p = spawn("dbus-run-session", [`--config-file=${join(h, "bus.conf")}`, "--", "bash", "-c", locked], {
            cwd: h, stdio: "ignore",
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: h, MCPLEXER_HOME: h, CLI: cli, PLANTED: planted },
        })
        p.on("error", fail)
        p.on("close", done)
    })
    const file = (name: string) => existsSync(join(h, name)) ? readFileSync(join(h, name), "utf8") : ""
    for (const step of ["init", "put", "protect", "lock"]) assert.equal(file(`${step}.code`).trim(), "0", `${step}: ${file(`${step}.err`)}`)
    for (const step of ["get", "unprotect"]) {
        const err = file(`${step}.err`)
        assert.equal(file(`${step}.code`).trim(), "1", `${step}: ${err}`)
        assert.ok(Number(file(`${step}.ms`)) < 15_000, `${step} took ${file(`${step}.ms`).trim()} ms: ${err}`)
        assert.match(err, /^mcplexer: error: .*OS keychain.*3 s/m)
        assert.match(err, /^mcplexer: hint: .*locked.*unlock your login keyring.*then retry/m)
        assert.match(err, /^mcplexer: hint: .*mcplexer key unprotect/m)
        assert.ok(!file(`${step}.out`).includes(planted) && !err.includes(planted))
    }
    assert.equal(file("age.key"), file("ref.key"), "the key file is left as it was")
})
