#!/bin/sh
# A full WAL disk while sheets arrive: tests/cluster/diskfull.sh says all.
FULL=wal
. "$(dirname "$0")/diskfull.sh"
