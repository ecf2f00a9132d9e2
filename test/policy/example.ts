/** Shared fixtures of the policy tests. */

/** The example config of README.md's "Policy" section, word for word. */
export const example = `auth_scopes:
  github-personal: {}
  github-acme: {}
  linear: {}
servers:
  github: { command: npx, args: ["-y", "@modelcontextprotocol/server-github"], scope: github-personal }
  linear: { url: "https://mcp.linear.app/mcp", scope: linear }
workspaces:
  work:
    root: ~/work
    routes:
      - { tools: ["linear__*"], action: deny }
  acme:
    root: ~/work/acme
    routes:
      - { tools: ["github__create_*", "github__merge_*"], scope: github-acme, approval: all }
      - { tools: ["github__*"], scope: github-acme }
`
