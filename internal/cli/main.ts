/** Runs the command line and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
    await Promise.resolve()
    process.stderr.write(`mcplexer ${argv.join(" ")}\n`)
    return 0
}
