#!/usr/bin/env python3
"""The cockpit's figures, measured on the real binary in a pseudo-terminal (bench/cockpit.sh runs this).

The cockpit runs with the stdio transport: its stdin is a pipe this script writes JSONL to, its
terminal (stdout, stderr, /dev/tty for keys) is a pty whose output this script reads.
  paint    exec -> the whole first screen drawn (the key hints line, the last one, is on it); the
           clock starts in the child just before execv, so Python's own fork (pty.fork copies this
           interpreter: 7-9 ms here) is not counted; the figure from before the fork is printed too
  line     an event line written to the pipe -> its text in the terminal's output
  key      a key written to the terminal -> its echo in the composer
  memory   peak resident memory (VmHWM) after replaying 100,000 events and paging through them
"""
import json, os, pty, select, statistics, subprocess, sys, time, fcntl, termios, struct

binary, iterations = sys.argv[1], int(sys.argv[2])
HINTS = b"Ctrl+C interrupt"


def event(seq, text, run="bench-run"):
    return json.dumps({"runId": run, "id": f"e{seq}", "type": "assistant_message", "message": text,
                       "createdAt": "2026-12-07T10:00:00Z", "seq": seq}) + "\n"


class Cockpit:
    def __init__(self, stdin_file=None):
        self.events_r, self.events_w = os.pipe()
        exec_r, exec_w = os.pipe()
        self.forked = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:
            os.dup2(os.open(stdin_file, os.O_RDONLY) if stdin_file else self.events_r, 0)
            os.write(exec_w, repr(time.monotonic()).encode())
            os.execv(binary, [binary, "--events=jsonl"])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        os.close(self.events_r)
        os.close(exec_w)
        self.started = float(os.read(exec_r, 64))
        os.close(exec_r)
        self.pid, self.fd, self.seen = pid, fd, b""

    def wait_for(self, needle, timeout=30.0):
        deadline = time.monotonic() + timeout
        start = max(0, len(self.seen) - len(needle))
        while needle not in self.seen[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit(f"timed out waiting for {needle!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                self.seen += os.read(self.fd, 65536)
        return time.monotonic()

    def mark(self):
        self.seen = b""

    def peak_kib(self):
        with open(f"/proc/{self.pid}/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM"))

    def close(self):
        os.write(self.fd, b"\x03")
        time.sleep(0.05)
        os.write(self.fd, b"\x03")
        os.close(self.events_w)
        _, code = os.waitpid(self.pid, 0)
        try:
            while os.read(self.fd, 65536):
                pass
        except OSError:
            pass
        os.close(self.fd)
        return code


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


paint, paint_from_fork, line, key = [], [], [], []
for i in range(iterations):
    c = Cockpit()
    painted = c.wait_for(HINTS)
    paint.append((painted - c.started) * 1000)
    paint_from_fork.append((painted - c.forked) * 1000)
    os.write(c.events_w, event(1, "warm up").encode())
    c.wait_for(b"warm up")
    for j in range(5):
        text = f"line-{i}-{j}-mark"
        c.mark()
        t0 = time.monotonic()
        os.write(c.events_w, event(2 + j, text).encode())
        line.append((c.wait_for(text.encode()) - t0) * 1000)
    for ch in "QWXYZ":
        c.mark()
        t0 = time.monotonic()
        os.write(c.fd, ch.encode())
        key.append((c.wait_for(ch.encode()) - t0) * 1000)
    c.close()

big = "/tmp/mogplex-bench-100k.jsonl"
with open(big, "w") as f:
    for s in range(1, 100_001):
        f.write(event(s, f"event number {s} of a long run, with some words to wrap"))
c = Cockpit(stdin_file=big)
c.wait_for(b"end of the input", timeout=300)
for _ in range(200):
    os.write(c.fd, b"\x1b[5~")  # PgUp
time.sleep(0.5)
for _ in range(200):
    os.write(c.fd, b"\x1b[6~")  # PgDn
time.sleep(0.5)
memory = c.peak_kib() / 1024
c.close()
os.unlink(big)

print(f"{'measure':<44}{'p50 ms':>10}{'p90 ms':>10}{'target':>10}")
for name, values, target in (("first full paint after exec", paint, 50), ("event line -> on screen", line, 20), ("keystroke -> echo", key, 16)):
    verdict = "" if p(values, 0.5) <= target else "  MISSED"
    print(f"{name:<44}{p(values, 0.5):>10.1f}{p(values, 0.9):>10.1f}{'<=' + str(target):>10}{verdict}")
    if values is paint:
        print(f"{'  the same, counted from before Python forks':<44}{p(paint_from_fork, 0.5):>10.1f}{p(paint_from_fork, 0.9):>10.1f}")
print(f"{'100,000-event replay, paged: peak memory':<44}{memory:>10.0f} MB{'':>7}{'<=200':>10}{'' if memory <= 200 else '  MISSED'}")
