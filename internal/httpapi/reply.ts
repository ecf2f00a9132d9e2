import type { Context } from "hono"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type * as redact from "../redact/index.ts"
import type { Env } from "./auth.ts"
import type * as ui from "./ui.ts"

/**
 * The one way REST and UI answers leave: every JSON body and every page's data passes through
 * `clean` (the registry's object scrubber) here and nowhere else, errors included. Data is
 * scrubbed as objects, before serializing, so that JSON or HTML escaping cannot hide a value
 * from the matcher.
 */
export interface Reply {
    /** A JSON answer, scrubbed. */
    json(c: Context<Env>, data: unknown, status?: ContentfulStatusCode): Response
    /** A page: `render` gets the scrubbed data. */
    page<T>(c: Context<Env>, render: (data: T) => ui.Out, data: T, status?: ContentfulStatusCode): Response | Promise<Response>
    /** A scrubbed copy of a text (an error message for the log). */
    text(s: string): string
    /** A scrubbed copy of data about to be serialized some other way (CSV, the metrics' text). */
    clean<T>(v: T): T
}

/** The responders over one registry. */
export function create(registry: redact.Registry): Reply {
    const clean = <T>(v: T): T => registry.scrubObject(v)
    return {
        json: (c, data, status = 200) => c.json(clean(data) as object, status),
        page: (c, render, data, status = 200) => c.html(render(clean(data)), status),
        text: s => clean(s),
        clean,
    }
}
