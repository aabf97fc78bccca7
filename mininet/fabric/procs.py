"""Small process helpers: run a command, record PIDs for cleanup after a crash."""

import os
import signal
import subprocess
import time

STATE_DIR = '/tmp/op25b-fabric'
PIDFILE = os.path.join(STATE_DIR, 'pids')


def run(cmd, check=False, timeout=60):
    """Runs a shell command in the root namespace; returns (exit code, stdout+stderr)."""
    proc = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError('command failed (%d): %s\n%s' % (proc.returncode, cmd, proc.stdout))
    return proc.returncode, proc.stdout


def remember_pid(pid, tag):
    """Records a PID we started so the next run can end it if this run is killed."""
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(PIDFILE, 'a') as handle:
        handle.write('%d %s\n' % (pid, tag))


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return None


def kill_remembered():
    """Ends the processes a previous (crashed) run recorded, if they are still ours."""
    try:
        with open(PIDFILE) as handle:
            entries = [line.split(None, 1) for line in handle if line.strip()]
    except OSError:
        return
    for pid_text, tag in entries:
        pid = int(pid_text)
        line = cmdline(pid)
        if line is not None and tag.strip() in line:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    os.remove(PIDFILE)


def stop_process(proc, grace=3.0):
    """SIGTERM, then SIGKILL after `grace` seconds, for a Popen we started."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    except OSError:
        pass


def wait_until(predicate, timeout, interval=0.1):
    """Polls predicate() until it returns a truthy value or timeout; returns (value, seconds)."""
    start = time.monotonic()
    while True:
        value = predicate()
        elapsed = time.monotonic() - start
        if value or elapsed >= timeout:
            return value, elapsed
        time.sleep(interval)
