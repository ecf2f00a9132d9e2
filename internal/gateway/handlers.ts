// The client methods the SDK Server dispatches (all but tools/call), each handed to the router or the relay.
import {
    CompleteRequestSchema, ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema,
    ListResourceTemplatesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema, RootsListChangedNotificationSchema,
    SetLevelRequestSchema, SubscribeRequestSchema, UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js"
import * as downstream from "../downstream/index.ts"
import { context } from "./call.ts"
import type { Lists } from "./lists.ts"
import type { Relay } from "./relay.ts"
import type { Router } from "./route.ts"
import type { Session } from "./session.ts"
import { listChanged, type Route } from "./tables.ts"

/** What the handlers of one session use. */
export interface Parts { router: Router; relay: Relay; lists: Lists; pool(): downstream.Pool }

/** Every method of the session's SDK Server but tools/call (which the edge takes): lists, prompts, resources, completion, logging, roots. */
export function handle(session: Session, p: Parts): void {
    lists(session, p)
    resources(session, p)
    const s = session.server
    s.setRequestHandler(GetPromptRequestSchema, async (req, extra) => {
        return p.relay.forward(await p.router.prompt(req.params.name), "prompts/get", req.params, context(session, extra), false)
    })
    s.setRequestHandler(CompleteRequestSchema, async (req, extra) => {
        const ref = req.params.ref
        let r: Route
        let params: Record<string, unknown> = req.params
        if (ref.type === "ref/prompt") {
            r = await p.router.prompt(ref.name)
            params = { ...req.params, ref: { ...ref, name: r.original } }
        } else {
            r = await p.router.templateOwner(ref.uri)
        }
        try {
            return await p.relay.forward(r, "completion/complete", params, context(session, extra), false)
        } catch (e) {
            // a server that does not complete offers nothing to complete, which is no error to the client
            if (e instanceof downstream.Failure && e.code === (ErrorCode.MethodNotFound as number)) return { completion: { values: [], hasMore: false } }
            throw e
        }
    })
    s.setRequestHandler(SetLevelRequestSchema, req => {
        session.level = req.params.level
        p.relay.forwardLevel()
        return {}
    })
    s.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
        // no decision on the old folders: the next list or call asks for the new ones
        session.rootsChanged()
        void s.notification({ method: listChanged.tools }).catch(() => { /* the client is gone */ })
        await p.pool().notify("notifications/roots/list_changed")
    })
}

function lists(session: Session, p: Parts): void {
    const s = session.server
    s.setRequestHandler(ListToolsRequestSchema, async (_, extra) => ({ tools: await p.router.tools(session, extra.requestId) }))
    s.setRequestHandler(ListPromptsRequestSchema, async () => {
        const t = await p.lists.refresh()
        return { prompts: t.prompts.list.map(n => n.exposed === n.item.name ? n.item : { ...n.item, name: n.exposed }) }
    })
    s.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: (await p.lists.refresh()).resources }))
    s.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: (await p.lists.refresh()).templates.map(x => x.template) }))
}

function resources(session: Session, p: Parts): void {
    const s = session.server
    s.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
        return p.relay.forward(await p.router.owner(req.params.uri), "resources/read", req.params, context(session, extra), false)
    })
    s.setRequestHandler(SubscribeRequestSchema, async (req, extra) => {
        const result = await p.relay.forward(await p.router.owner(req.params.uri), "resources/subscribe", req.params, context(session, extra), false)
        session.subscriptions.add(req.params.uri)
        return result
    })
    s.setRequestHandler(UnsubscribeRequestSchema, async (req, extra) => {
        const uri = req.params.uri
        session.subscriptions.delete(uri)
        if (p.relay.subscribed(uri)) return {}
        return p.relay.forward(await p.router.owner(uri), "resources/unsubscribe", req.params, context(session, extra), false)
    })
}
