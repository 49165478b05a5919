#!/bin/sh
# Prepare the kiosk's X session before the UI starts: no screen saver, no power saving.
set -e
xset s off || true
xset s noblank || true
xset -dpms || true
