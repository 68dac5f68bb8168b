#!/bin/sh
# A full data disk while sheets arrive: tests/cluster/diskfull.sh says all.
FULL=data
. "$(dirname "$0")/diskfull.sh"
