#!/bin/sh
# NAME comes from the runnable's env (see runnable.json); change it and run again.
echo "Hello, ${NAME:-world}!"
echo "It is $(date -u '+%A, %H:%M') UTC here."
