/** The config `mcplexer init` writes: one scope, and commented-out examples of the rest. */
export const starter = `# mcplexer configuration: every field is described in config.example.yaml.
# No secret value is ever written here: store them in the encrypted vault with
#   mcplexer secret put <scope> <KEY>
# and refer to them as \${secret:KEY} (the server's scope) or \${secret:scope/KEY}.

# Named sets of secrets.
auth_scopes:
  personal:
    description: my own tokens

# The MCP servers behind mcplexer, keyed by name. Their tools appear as <server>__<tool>.
servers:
  # A local server started on demand over stdio; every key of its scope becomes an
  # environment variable of the process.
  # everything:
  #   command: npx
  #   args: ["-y", "@modelcontextprotocol/server-everything"]
  #   scope: personal

  # A remote server over Streamable HTTP.
  # linear:
  #   url: https://mcp.linear.app/mcp
  #   scope: personal
  #   headers:
  #     Authorization: "Bearer \${secret:LINEAR_API_KEY}"

# Different scopes or rules per project, chosen by the client's root folder.
workspaces:
  # acme:
  #   root: ~/work/acme
  #   routes:
  #     - { tools: ["everything__*"], scope: personal }
  #     - { tools: ["linear__*"], action: deny }
`
