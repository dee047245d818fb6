"""Read a child process's output on a thread, so a test can wait for a line with a deadline."""

import queue
import threading
import time


class LineReader:
    """Collect a process's output lines on a thread, so a test can wait for one with a deadline."""

    def __init__(self, stream, process=None):
        # With the process, a wait ends early once it has exited.
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process is not None and self.process.poll() is not None:
                    return False
                continue
            self.seen.append(line)
            if text in line:
                return True
        return False

    def drain(self) -> list[str]:
        """Move every line that has arrived into `seen` without waiting; return `seen`."""
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen
