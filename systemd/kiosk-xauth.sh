#!/bin/sh
# ExecStartPre of kiosk-xorg.service: write a new X authority cookie for DISPLAY to FILE,
# readable by GROUP (the kiosk's user), so that only the kiosk may draw on the kiosk's screen.
# Installed as /opt/kiosk/bin/kiosk-xauth. Usage: kiosk-xauth FILE DISPLAY GROUP
set -eu
file="$1"
display="$2"
group="$3"
umask 027
rm -f "$file"
: > "$file"
cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
xauth -q -f "$file" add "$display" MIT-MAGIC-COOKIE-1 "$cookie"
chgrp "$group" "$file" "$(dirname "$file")"
