import assert from "node:assert/strict"
import { homedir } from "node:os"
import { join, resolve } from "node:path"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"

test("everything lives in ~/.mcplexer by default", () => {
    assert.deepEqual(config.paths({ HOME: "/home/u" }), {
        home: "/home/u/.mcplexer",
        config: "/home/u/.mcplexer/config.yaml",
        db: "/home/u/.mcplexer/mcplexer.db",
        key: "/home/u/.mcplexer/age.key",
        keyExplicit: false,
    })
})

test("without HOME the user's home folder is used", () => {
    assert.equal(config.paths({}).home, join(homedir(), ".mcplexer"))
})

test("MCPLEXER_HOME moves every file", () => {
    const p = config.paths({ HOME: "/home/u", MCPLEXER_HOME: "/srv/mx" })
    assert.equal(p.home, "/srv/mx")
    assert.equal(p.config, "/srv/mx/config.yaml")
    assert.equal(p.db, "/srv/mx/mcplexer.db")
    assert.equal(p.key, "/srv/mx/age.key")
})

test("MCPLEXER_CONFIG, MCPLEXER_DB and MCPLEXER_AGE_KEY override one file each", () => {
    const p = config.paths({ HOME: "/home/u", MCPLEXER_HOME: "/srv/mx", MCPLEXER_CONFIG: "/etc/mx.yaml", MCPLEXER_DB: "/var/mx.db", MCPLEXER_AGE_KEY: "/keys/prod.key" })
    assert.deepEqual(p, { home: "/srv/mx", config: "/etc/mx.yaml", db: "/var/mx.db", key: "/keys/prod.key", keyExplicit: true })
})

test("the --config override wins over MCPLEXER_CONFIG", () => {
    assert.equal(config.paths({ HOME: "/home/u", MCPLEXER_CONFIG: "/etc/mx.yaml" }, { config: "/tmp/c.yaml" }).config, "/tmp/c.yaml")
})

test("relative paths resolve against the current folder and ~ against HOME", () => {
    const p = config.paths({ HOME: "/home/u", MCPLEXER_HOME: "mx", MCPLEXER_DB: "~/db/mx.db", MCPLEXER_AGE_KEY: "~" }, { config: "./c.yaml" })
    assert.equal(p.home, resolve("mx"))
    assert.equal(p.config, resolve("c.yaml"))
    assert.equal(p.db, "/home/u/db/mx.db")
    assert.equal(p.key, "/home/u")
})

test("an empty variable counts as unset", () => {
    const p = config.paths({ HOME: "/home/u", MCPLEXER_HOME: "", MCPLEXER_AGE_KEY: "" })
    assert.equal(p.home, "/home/u/.mcplexer")
    assert.equal(p.keyExplicit, false)
})
