"""How fast this machine runs plain Python at the time of a run.

Shared machines differ from day to day (the same code measured 1.5 times slower on another day, the `buf`
binary with it); the benchmarks record this figure so that runs of different days can be compared.
"""

import timeit

LOOP = "sum(range(1_000_000))"


def python_speed_ms() -> float:
    """Return the best of 5 runs of a fixed pure-Python loop (the sum of a range of a million), in milliseconds."""
    return round(min(timeit.repeat(LOOP, number=5, repeat=5)) / 5 * 1000, 1)
