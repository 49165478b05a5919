# The two commands: `make demo` and `make test`. Both set up everything they need on a
# fresh Debian 12 machine (as root, or with sudo): Debian packages where missing, a
# .venv with the project installed editable with its dev, hid and refbackend extras.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
APT_PACKAGES := xvfb xauth xsel xdotool libzbar0 libmtdev1 libgl1 libglx-mesa0 libgl1-mesa-dri \
                libegl1 libegl-mesa0 libsdl2-2.0-0 libusb-1.0-0
# spoken prompts (espeak-ng, Mandarin voice) and the test that hears them (sox) — issue 12
APT_PACKAGES += espeak-ng sox
# -- deployment (issue 14): systemd-analyze and a user-level systemd for the service tests, and the
# programs the units run (Xorg, xset), which `systemd-analyze verify` checks exist --
APT_PACKAGES += systemd util-linux xserver-xorg-core x11-xserver-utils
# the reference backend's contract tests start their own PostgreSQL server (tests/pg_support.py)
APT_PACKAGES += postgresql
# what a kiosk PC needs besides: `make install` installs these too
KIOSK_APT_PACKAGES := xserver-xorg-core xserver-xorg-input-libinput x11-xserver-utils xauth libgl1 libglx-mesa0 \
                      libgl1-mesa-dri libegl1 libegl-mesa0 libzbar0 libmtdev1 libusb-1.0-0 python3-venv systemd udev \
                      espeak-ng
INSTALL_ARGS ?=
PYTEST_ARGS ?=
# the suite runs on two workers (pytest-xdist); a scenario batch stays on one worker (loadgroup)
PYTEST_WORKERS ?= 2

.PHONY: demo test setup system-packages clean screenshots install kiosk-packages

demo: setup
	@if [ -n "$$DISPLAY" ]; then $(VENV)/bin/kiosk demo; \
	else echo "no DISPLAY: running the demo on a virtual screen (Xvfb)"; \
	  xvfb-run -a -s "-screen 0 1080x1920x24" $(VENV)/bin/kiosk demo; fi

test: setup
	@mkdir -p .pytest-tmp && export TMPDIR=$$(mktemp -d "$$PWD/.pytest-tmp/run.XXXXXX") \
	  ESCPOS_CAPABILITIES_PICKLE_DIR="$$PWD/.pytest-tmp" && \
	  $(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS); status=$$?; \
	  rm -rf "$$TMPDIR"; exit $$status

setup: system-packages $(STAMP)

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	  if ! $(PYTHON) -c "import venv, ensurepip" 2>/dev/null; then missing="$$missing python3-venv"; fi; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	  fi

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e ".[dev,hid,refbackend]"
	@touch $(STAMP)

screenshots: setup
	$(VENV)/bin/kiosk shot home --out docs/screenshots/home.png
	$(VENV)/bin/kiosk shot home --elderly --out docs/screenshots/home-elderly.png
	$(VENV)/bin/kiosk shot home --lang en --out docs/screenshots/home-en.png
	$(VENV)/bin/kiosk shot help --out docs/screenshots/help.png
	$(VENV)/bin/kiosk shot help --countdown --out docs/screenshots/countdown.png
	$(VENV)/bin/kiosk shot search --out docs/screenshots/search-browse.png
	$(VENV)/bin/kiosk shot search --query sfz --out docs/screenshots/search-results.png
	$(VENV)/bin/kiosk shot search --query 开店 --elderly --out docs/screenshots/search-elderly.png
	$(VENV)/bin/kiosk shot search --keys shenfenz --out docs/screenshots/keyboard-pinyin.png
	$(VENV)/bin/kiosk shot search --keys shebaok --elderly --out docs/screenshots/keyboard-elderly.png
	$(VENV)/bin/kiosk shot search --query 结婚 --open 1 --out docs/screenshots/guide.png
	$(VENV)/bin/kiosk scenario run docs/screenshots/signin.yaml --shots docs/screenshots
	$(VENV)/bin/kiosk scenario run docs/screenshots/apply.yaml --shots docs/screenshots
	$(VENV)/bin/python docs/screenshots/clerk_case.py docs/screenshots/apply/clerk-case.png
# following, collecting, rating (issue 12): docs/screenshots/follow/, pickup/, rate/
	$(VENV)/bin/kiosk scenario run docs/screenshots/follow.yaml docs/screenshots/pickup.yaml \
	  docs/screenshots/rate.yaml --shots docs/screenshots
	$(VENV)/bin/kiosk scenario run docs/screenshots/technician.yaml --shots docs/screenshots

# -- deployment (issue 14): install on this machine as a kiosk (as root); see docs/deploy.md --
# (the checkout's .venv runs the installer; the release gets its own venv under /opt/kiosk)
install: kiosk-packages $(STAMP)
	@SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO $(VENV)/bin/kiosk install $(INSTALL_ARGS)

kiosk-packages:
	@missing=""; for p in $(KIOSK_APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	  fi
# -- end of deployment --

clean:
	rm -rf $(VENV) .pytest-tmp *.egg-info
