// Command api-server is the Runnable API server and its admin CLI (spec
// §9.5): serve (the default), admin ensure, cleanup, import, migrate and
// openapi. It is the composition root: the only place where adapters are
// chosen and wired (with go.uber.org/fx) and where the environment is read.
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit codes (spec §9.5).
const (
	exitOK       = 0
	exitFailure  = 1
	exitBadInput = 2
	exitLockHeld = 3
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a command line; it is the single place that decides the
// exit code.
func run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(getenv, stderr)
	case "admin":
		if len(args) == 0 || args[0] != "ensure" {
			fmt.Fprintln(stderr, "usage: api-server admin ensure [--email E] [--username U] [--password-stdin]")
			return exitBadInput
		}
		return adminEnsure(args[1:], getenv, stdin, stdout, stderr)
	case "migrate":
		return migrate(args, getenv, stdout, stderr)
	case "openapi":
		return openapi(stdout)
	case "cleanup":
		return cleanupCmd(args, getenv, stdout, stderr)
	case "import":
		return importCmd(args, getenv, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s\n", cmd, usage)
	return exitBadInput
}

const usage = `usage: api-server [command]
  serve                       run the server (default)
  admin ensure [--email E] [--username U] [--password-stdin]
  cleanup [--dry-run] [--max-age D]
  import <dir|tar> [--owner-email E]
  migrate [status|up]
  openapi                     print the OpenAPI document`
