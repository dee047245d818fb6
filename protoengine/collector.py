"""Keep Python's cycle collector out of the engine's big passes over a schema.

A lint of a large schema builds tens of thousands of short-lived elements that
reference counting frees as soon as the run ends. While it runs, the cycle
collector is started every few hundred allocations only to walk them and move
them to older generations, whose full collections then walk them again: for the
large benchmark set, about 10 ms of a check that takes about 100. Paused for the
run, the collector runs after it and finds the survivors alone.

Passes that keep what they build in cycles (the breaking index's elements refer
to each other) are left alone: with fewer full collections, such garbage of
earlier checks would stay in memory longer.

The switch is process-wide: a pass that starts while the collector is off leaves
it off (another thread's pass, or a process that turned it off on purpose), and
the pass that turned it off turns it back on, even when it fails.
"""

import functools
import gc


def without_cycle_collection(function):
    """Return `function` run with the cycle collector paused (see the module's docstring)."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused
