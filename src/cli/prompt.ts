import { createInterface } from "node:readline";
import { CliError } from "./common.ts";

/**
 * Reads a line from the terminal without echoing it. The terminal is put in raw mode, so editing keys are
 * handled here: backspace, Ctrl-U (clear), Ctrl-C (abort), Ctrl-D on an empty line (no input).
 */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    const onData = (chunk: string) => {
      // Arrow and function keys arrive as escape sequences; they are not part of a password.
      if (chunk.startsWith("\x1b")) return;
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          finish();
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          finish();
          process.exit(130);
        }
        if (ch === "\u0004") {
          if (value !== "") continue;
          finish();
          reject(new CliError("no password given"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch === "\u0015") value = "";
        else if (ch >= " ") value += ch;
      }
    };
    stdin.setEncoding("utf8");
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** Reads the first line of a non-interactive stdin (`echo secret | hearth adduser …`), without its newline. */
async function readStdinLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) return line;
  } finally {
    lines.close();
    process.stdin.destroy();
  }
  throw new CliError("expected the password on standard input, got nothing");
}

/**
 * Gets a new password: asked twice without echo on a terminal, else read as one line from stdin so scripts
 * can pipe it in. (`--password` is handled by the caller.)
 */
export async function readNewPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readStdinLine();
  const first = await promptHidden("Password: ");
  const second = await promptHidden("Repeat password: ");
  if (first !== second) throw new CliError("the passwords do not match");
  return first;
}
