"""One place for argument checks: every rule written once, every message alike.

Each check returns the value converted (``int``, ``float``) or raises
``nengo.exceptions.ValidationError`` naming the parameter, before any work is done. The
command line uses the same checks (it turns ``attr`` into the ``--option`` name), so a
rule and its message are the same in Python and in a terminal.

``obj`` is what the message is about: an instance or a class (``LegendreMemory``), or
None; a free function passes its own name as ``where`` (``where="fit"`` reads
``fit.epochs: ...``).
"""

import numbers

import numpy as np
from nengo.exceptions import ValidationError


# a class, so ValidationError prints its __name__
def _named(name):
    return type(name, (), {})


def error(message, attr, obj=None, where=None, kind=ValidationError):
    """A ``ValidationError`` about ``attr`` of ``obj`` (or of the function ``where``).

    ``kind``: a subclass of ``ValidationError`` to raise instead, for a refusal callers
    tell apart (e.g. :class:`nengo_lmu.deploy.DoesNotFit`).
    """
    return kind(message, attr, obj if obj is not None else (_named(where) if where else None))


def is_integer(value):
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value):
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def integer(value, attr, obj=None, low=1, high=None, where=None):
    """``value`` as an ``int`` in ``[low, high]`` (``high`` None: no upper bound)."""
    if not is_integer(value) or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise error(f"must be an integer {bound} (got {value!r})", attr, obj, where)
    return int(value)


def number(value, attr, obj=None, low=None, high=None, low_open=False, high_open=False, where=None):
    """``value`` as a finite ``float`` within the bounds (open or closed at each end)."""
    ok = is_number(value) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise error(f"must be {describe(low, high, low_open, high_open)} (got {value!r})", attr, obj, where)
    return float(value)


def positive(value, attr, obj=None, where=None):
    """``value`` as a finite ``float`` > 0."""
    return number(value, attr, obj, low=0, low_open=True, where=where)


def non_negative(value, attr, obj=None, where=None):
    """``value`` as a finite ``float`` >= 0."""
    return number(value, attr, obj, low=0, where=where)


def describe(low=None, high=None, low_open=False, high_open=False):
    """"a finite number > 0", "a finite number in [0, 1)" ... for messages and help texts."""
    if low is not None and high is not None:
        return f"a finite number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return "a finite number"


def choice(value, options, attr, obj=None, where=None):
    """``value`` if it is one of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise error(f"must be one of {tuple(options)} (got {value!r})", attr, obj, where)
    return value


def boolean(value, attr, obj=None, where=None):
    """``value`` if it is a ``bool`` (not any truthy object)."""
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"must be True or False (got {value!r})", attr, obj, where)
    return bool(value)
