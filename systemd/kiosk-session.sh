#!/bin/sh
# ExecStartPre of kiosk.service: wait until the X server on $DISPLAY is there (its socket in
# /tmp/.X11-unix, up to 60 s), then switch the screen saver and power saving off (belt and
# braces: kiosk-xorg.service starts X with -s 0 -dpms). Installed as /opt/kiosk/bin/kiosk-session:
# it belongs to no release. Exit 1 when there is no X server: systemd tries again later.
display="${DISPLAY:-:0}"
number="${display#*:}"
number="${number%%.*}"
socket="/tmp/.X11-unix/X${number}"
tries=0
while [ ! -S "$socket" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
        echo "kiosk-session: no X server on $display ($socket)" >&2
        exit 1
    fi
    sleep 0.2
done
if command -v xset >/dev/null 2>&1; then
    xset s off s noblank -dpms >/dev/null 2>&1 || true
fi
exit 0
