"""A file storage that writes a few KiB at a time with pauses, like a slow remote store.

The fault test gives it to the worker it kills, so the kill lands while an archive is half written.
"""

import os
import time

from django.core.files.storage import FileSystemStorage

CHUNK_BYTES = 16 * 1024
PAUSE_SECONDS = 0.3


class SlowFileSystemStorage(FileSystemStorage):
    def _save(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb") as handle:
            for chunk in content.chunks(CHUNK_BYTES):
                handle.write(chunk)
                handle.flush()
                time.sleep(PAUSE_SECONDS)
        return name
