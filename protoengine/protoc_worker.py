"""A process that runs grpcio-tools' protoc for the compiler, one run at a time, and answers with what it printed.

protoc prints its diagnostics on file descriptor 2, which belongs to the whole
process: two threads of one process cannot each capture their own. Each worker is a
process of its own, so it can point its descriptor 2 at a file for the length of a run
without making any other compile wait; the compiler keeps a pool of them
(compiler.WorkerPool).

Protocol, over the worker's stdin and stdout: a 4-byte big-endian length, then a
pickled request `(arguments, workdir)`; the answer is framed the same way and is
`(status, text protoc printed)`. The worker ends when its stdin closes.
"""

import os
import pickle
import struct
import sys

_HEADER = struct.Struct(">I")


def read_frame(stream) -> object | None:
    """Return the next pickled object of a stream, or None at its end."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return pickle.loads(payload)


def write_frame(stream, value: object) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def run_capturing_output(main, arguments: list[str], workdir: str) -> tuple[int, str]:
    """Run protoc with descriptors 1 and 2 pointed at a file in `workdir`; return (status, what it printed)."""
    capture_path = os.path.join(workdir, "protoc-output.txt")
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(capture_path, "w+b") as capture:
            os.dup2(capture.fileno(), 1)
            os.dup2(capture.fileno(), 2)
            try:
                status = main(arguments)
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
            capture.seek(0)
            return status, capture.read().decode("utf-8", "replace")
    finally:
        for descriptor in saved:
            os.close(descriptor)


def serve() -> None:
    from grpc_tools import protoc

    # The protocol keeps the original pipes; protoc's own reads and writes never reach them.
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    with open(os.devnull, "rb") as nothing:
        os.dup2(nothing.fileno(), 0)
    os.dup2(2, 1)
    while (request := read_frame(requests)) is not None:
        arguments, workdir = request
        write_frame(answers, run_capturing_output(protoc.main, arguments, workdir))


if __name__ == "__main__":
    serve()
    sys.exit(0)
