// Placeholder until this subcommand lands; its owner replaces the whole file.
export async function runCommand(_argv: string[]): Promise<number> {
  process.stderr.write("raftlab: this command is not built yet\n");
  return 254;
}
