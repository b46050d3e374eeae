#!/bin/sh
# Welcome to your runnable! Edit this script, then run it again.

echo "Hello from runnable!"
echo "You are $(whoami) in $(pwd) on a busybox shell."
echo

echo "Files in this runnable:"
ls -l
echo

count=3
while [ "$count" -gt 0 ]; do
	echo "$count..."
	count=$((count - 1))
done
echo "Done. Open a terminal to explore, or change this script and run it again."
