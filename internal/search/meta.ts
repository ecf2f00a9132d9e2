/**
 * The two tools that stand for the whole tool list in search mode (issue 20): one finds tools for a
 * task, one calls any of them by name. Their text is what the model reads instead of every tool's
 * definition, so it says when to use each and what comes back, and no more.
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js"

/** `mcplexer__find_tools`: the best matches for a task, with their full input schemas. */
export const findTools = {
    name: "mcplexer__find_tools",
    title: "Find tools",
    description: "Find the tools available for a task. Describe the task in plain words (\"open a pull request\", \"read a file\", \"send a Slack message\"); returns the best-matching tools, best first, each with its name, description and full input schema. Then call one with mcplexer__call_tool.",
    inputSchema: {
        type: "object",
        properties: {
            query: { type: "string", description: "The task, in plain words" },
            limit: { type: "integer", minimum: 1, maximum: 50, description: "How many tools to return (default 5)" },
        },
        required: ["query"],
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
} as const satisfies Tool

/** `mcplexer__call_tool`: calls a tool that `mcplexer__find_tools` returned, by its name. */
export const callTool = {
    name: "mcplexer__call_tool",
    title: "Call a tool",
    description: "Call a tool found with mcplexer__find_tools, by its exact name, with arguments that follow its input schema. Returns that tool's result.",
    inputSchema: {
        type: "object",
        properties: {
            name: { type: "string", description: "The tool's name, as mcplexer__find_tools returned it" },
            arguments: { type: "object", description: "The tool's arguments, as its input schema describes them", additionalProperties: true },
        },
        required: ["name"],
    },
} as const satisfies Tool

/** The number of tools `mcplexer__find_tools` returns when not told. */
export const findLimit = 5

/** Search mode's tool list, before any tool matched by `always`. */
export const tools: readonly Tool[] = [findTools, callTool]
