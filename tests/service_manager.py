"""A real systemd for tests: a user-level service manager of the test's own (``systemd --user``).

This machine's PID 1 is not systemd, and ``systemd --user`` refuses to run unless the system
was booted with systemd, and takes over the cgroup it starts in. So the manager runs

- in a mount namespace of its own, where a tmpfs on ``/run/systemd`` holds the ``system``
  folder that says "booted with systemd";
- in a cgroup namespace rooted at a fresh sub-cgroup of the test's own (one per hierarchy), with
  the cgroup file systems mounted again inside it: whatever the manager does with cgroups stays
  inside that subtree, and the rest of the machine is not touched;
- with its own ``XDG_RUNTIME_DIR`` (``/run/kiosk-test-…``: socket paths must be short),
  ``XDG_CONFIG_HOME`` (unit files; also ``%S``, the state folders' root).

``UserSystemd.start()`` returns once ``systemctl --user`` answers; ``stop()`` ends the manager,
kills whatever is left in its subtree and removes the sub-cgroups. Needs root (mounts and
cgroups), ``unshare`` (util-linux) and systemd (Debian packages, installed by ``make setup``).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

SYSTEMD = "/lib/systemd/systemd"


def available() -> str:
    """"" when a user manager can run here, else why not."""
    if os.geteuid() != 0:
        return "needs root (mount and cgroup namespaces)"
    for tool in ("unshare", "systemctl"):
        if not shutil.which(tool):
            return f"{tool} is missing"
    if not os.access(SYSTEMD, os.X_OK):
        return f"{SYSTEMD} is missing (Debian package systemd)"
    return ""


def _cgroup_mounts() -> list[tuple[str, str, str]]:
    """(mount point, file system type, options to mount it again) for every cgroup hierarchy."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            options = [o for o in tail[2].split(",") if o not in ("rw", "ro")]
            found.append((fields[4], tail[0], ",".join(options)))
    return found


def _own_cgroups() -> dict[str, str]:
    """{controllers ("memory", "name=systemd", "" for cgroup2): this process's path}."""
    result = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        result[controllers] = path
    return result


def _hierarchy_key(fstype: str, options: str) -> str:
    if fstype == "cgroup2":
        return ""
    return ",".join(o for o in options.split(",") if o != "none")


class UserSystemd:
    def __init__(self, base: Path):
        self.base = Path(base)
        # short: the manager's sockets live here, and a socket path has at most 107 bytes
        self.runtime = Path("/run") / f"kiosk-test-{uuid.uuid4().hex[:8]}"
        self.config = self.base / "config"
        # %S (StateDirectory=) of a user manager is $XDG_CONFIG_HOME in systemd 252
        self.state = self.config
        self.units = self.config / "systemd" / "user"
        self.log = self.base / "systemd.log"
        self.name = f"kiosk-test-{uuid.uuid4().hex[:10]}"
        self.cgroup_dirs: list[Path] = []
        self.process: subprocess.Popen | None = None

    # -- environment -----------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """A clean environment: the manager hands its own to every service it starts, and a test
        run's (TMPDIR, KIVY_HOME, KIOSK_STATE_DIR …) must not leak into the kiosk under test."""
        return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                "HOME": str(self.base), "XDG_RUNTIME_DIR": str(self.runtime), "XDG_CONFIG_HOME": str(self.config)}

    def systemctl(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, env=self.env(),
                                timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"systemctl --user {' '.join(args)}: {result.stderr.strip()}")
        return result

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.systemctl("show", unit, *[f"--property={p}" for p in props]).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    # -- life ------------------------------------------------------------------------------
    def _make_cgroups(self) -> list[str]:
        """Create the sub-cgroup in every hierarchy; returns the mount commands for inside."""
        own = _own_cgroups()
        mounts = []
        for mountpoint, fstype, options in _cgroup_mounts():
            key = _hierarchy_key(fstype, options)
            path = own.get(key)
            if path is None:
                continue
            parent = Path(mountpoint) / path.lstrip("/")
            target = parent / self.name
            target.mkdir()
            self.cgroup_dirs.append(target)
            for name in ("cpuset.cpus", "cpuset.mems"):  # a new cpuset has none until told
                if (parent / name).exists():
                    (target / name).write_text((parent / name).read_text())
            if fstype == "cgroup2":
                mounts.append(f"mkdir -p {mountpoint} && mount -t cgroup2 cgroup2 {mountpoint}")
            else:
                mounts.append(f"mkdir -p {mountpoint} && mount -t cgroup -o {options} cgroup {mountpoint}")
        return mounts

    def start(self, timeout: float = 60) -> "UserSystemd":
        for folder in (self.runtime, self.units):
            folder.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        # no D-Bus: systemctl then talks to the manager's private socket (a bus socket here
        # would be a dbus-daemon started on demand, which this manager cannot give it)
        for unit in ("dbus.socket", "dbus.service"):
            mask = self.units / unit
            if not mask.is_symlink():
                mask.symlink_to("/dev/null")
        mounts = self._make_cgroups()
        script = " && ".join([
            "mount -t tmpfs -o mode=755 tmpfs /run/systemd", "mkdir -p /run/systemd/system",
            "mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup", *mounts,
            f"exec {SYSTEMD} --user --log-target=console --log-level=info"])
        procs = [d / "cgroup.procs" for d in self.cgroup_dirs]

        def enter_cgroups() -> None:  # in the child, before unshare: the namespace is rooted here
            for path in procs:
                with open(path, "w") as handle:
                    handle.write(str(os.getpid()))

        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(["unshare", "--mount", "--cgroup", "--propagation", "private",
                                             "sh", "-c", script], env=self.env(), stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL, preexec_fn=enter_cgroups)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"systemd --user ended (exit {self.process.returncode}): {self.log.read_text()[-2000:]}")
            if (self.runtime / "systemd" / "private").exists():
                # (is-system-running says "offline" out here: this side was not booted with systemd)
                state = self.systemctl("show", "--property=SystemState", "--value", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"systemd --user did not come up: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.systemctl("exit", check=False, timeout=30)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        # anything still in the subtree was started by this manager: end it, then remove the cgroups
        for directory in self.cgroup_dirs:
            for pid in _pids_below(directory):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for directory in self.cgroup_dirs:
            _remove_cgroup(directory)
        self.cgroup_dirs.clear()
        shutil.rmtree(self.runtime, ignore_errors=True)

    def __enter__(self) -> "UserSystemd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- waiting ---------------------------------------------------------------------------
    def wait_for(self, unit: str, predicate, timeout: float = 120, poll: float = 0.2) -> dict[str, str]:
        """Wait until ``predicate(properties)`` holds for ``unit``; returns the properties."""
        props: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            props = self.show(unit, "ActiveState", "SubState", "MainPID", "NRestarts", "Result", "ExecMainStatus",
                              "StatusText")
            if predicate(props):
                return props
            time.sleep(poll)
        raise AssertionError(f"{unit} did not get there in {timeout} s: {props}")


def wait_until(condition, timeout: float, poll: float = 0.1) -> bool:
    """Poll ``condition()`` until it is true (True) or ``timeout`` seconds passed (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return bool(condition())


def _pids_below(directory: Path) -> list[int]:
    pids = []
    for procs in directory.rglob("cgroup.procs"):
        try:
            pids += [int(p) for p in procs.read_text().split()]
        except OSError:
            pass
    return pids


def _remove_cgroup(directory: Path) -> None:
    if not directory.exists():
        return
    children = sorted((p for p in directory.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
    for path in children + [directory]:
        for _ in range(50):
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


# -- the installed kiosk.service, adapted to a user manager ---------------------------------

#: a user manager runs services as its own user
USER_MANAGER_CANNOT = ("User", "Group", "SupplementaryGroups")
#: the X server is the test's Xvfb, not kiosk-xorg.service
NOT_HERE = ("BindsTo", "Requires")


#: a probe service: READY through $NOTIFY_SOCKET, as the kiosk does
_PROBE = ("import os, socket, time; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); "
          "s.connect(os.environ['NOTIFY_SOCKET']); s.sendall(b'READY=1'); time.sleep(0.5)")


def unsupported_options(manager: UserSystemd, lines: list[str]) -> set[str]:
    """The hardening lines (``Key=value``) that a service of this user manager cannot run with:
    added one by one to a probe service that must start and report READY through
    ``$NOTIFY_SOCKET``; a line that breaks the probe together with the lines kept so far is
    refused. (Here, in a container: the namespace set-up of ProtectHome, ProtectKernelTunables
    and ProtectKernelLogs fails, and ProtectControlGroups hides /run, the notify socket, from a
    user manager's service.)"""
    refused: set[str] = set()
    kept: list[str] = []
    for n, line in enumerate(lines):
        unit = f"probe-{n}.service"
        body = "\n".join(kept + [line])
        (manager.units / unit).write_text(f"[Service]\nType=notify\nTimeoutStartSec=20\n"
                                          f"ExecStart=/usr/bin/python3 -c \"{_PROBE}\"\n{body}\n")
        manager.systemctl("daemon-reload")
        if manager.systemctl("start", unit, check=False, timeout=40).returncode == 0:
            kept.append(line)
        else:
            refused.add(line)
    return refused


HARDENING_KEYS = ("ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges", "ProtectKernelTunables",
                  "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock",
                  "ProtectHostname", "RestrictSUIDSGID", "RestrictRealtime", "RestrictNamespaces", "LockPersonality",
                  "BindReadOnlyPaths", "PrivateDevices", "MemoryDenyWriteExecute")


def hardening_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.split("=", 1)[0] in HARDENING_KEYS]


def for_user_manager(text: str, root: Path, drop: set[str] = frozenset()) -> str:
    """The unit as installed in ``root``, runnable by a user manager: programs and the kiosk's
    files (``/etc/kiosk``) resolved inside ``root``; no user switch, no kiosk-xorg.service; the
    lines in ``drop`` removed. Everything else (Type=notify, the watchdog, Restart=, the
    release guard, the runtime and state folders, the rest of the hardening) stays as installed."""
    from kiosk.deploy.verify import resolve_inside

    lines = []
    for line in resolve_inside(text, root).splitlines():
        key = line.split("=", 1)[0]
        if key in USER_MANAGER_CANNOT or key in NOT_HERE or line in drop:
            continue
        if line.startswith("Exec"):
            line = line.replace(" /etc/kiosk/", f" {root.resolve()}/etc/kiosk/")
        lines.append(line)
    return "\n".join(lines) + "\n"
