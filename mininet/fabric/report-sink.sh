#!/bin/sh
# The Mininet suite's [reporting] report_command (fabric/reports.py): appends the report it
# gets on stdin to the file named by its first argument.
exec cat >> "$1"
